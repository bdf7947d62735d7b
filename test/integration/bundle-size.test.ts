/**
 * The script-tag bundle's budget: /livetier.js (SDK + widget + socket.io-client + lit) at most
 * 30 KB gzipped, like Segment's analytics alone (29.8 KB) or Snowplow's (30 KB). Runs on the
 * built file (`npm test` builds first; `npx rollup -c` by hand).
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BROWSER_DIR } from '../../server/routes/assets.js';

export const BUDGET_GZIP_BYTES = 30 * 1024;

describe('/livetier.js size', () => {
  it(`is at most ${BUDGET_GZIP_BYTES / 1024} KB gzipped`, () => {
    const js = readFileSync(`${BROWSER_DIR}/livetier.js`);
    const gz = gzipSync(js, { level: 9 }).length;
    expect(gz, `livetier.js is ${(gz / 1024).toFixed(1)} KB gzipped`).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });
});
