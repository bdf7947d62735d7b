#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/server/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('livetier is not built yet: run `npm run build` first');
  process.exit(1);
}
const { cli } = await import(main.href);
await cli(process.argv.slice(2));
