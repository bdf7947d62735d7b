#!/usr/bin/env node
// Builds LiveTier (`npm run build`) when dist/ is missing or older than its sources.
// Used by `npm start`, `npm run simulate` and `npm run bench`; run directly, it builds if needed.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.test.ts') ? 0 : statSync(p).mtimeMs);
  }
  return t;
}

const OUTPUTS = ['dist/server/main.js', 'dist/browser/livetier.js', 'dist/demo/simulate.js'];
const SOURCES = ['server', 'sdk', 'widget', 'demo'];

export function ensureBuilt({ quiet = false } = {}) {
  const out = OUTPUTS.map((f) => path.join(root, f));
  const built = out.every((f) => existsSync(f)) ? Math.min(...out.map((f) => statSync(f).mtimeMs)) : 0;
  const sources = Math.max(...SOURCES.map((d) => newest(path.join(root, d))));
  if (built >= sources) return false;
  if (!quiet) console.error('building LiveTier (npm run build)…');
  try {
    execSync('npm run build', { stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'], cwd: root });
  } catch {
    console.error('the build failed (see the errors above); nothing was started');
    process.exit(1);
  }
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureBuilt();
