/**
 * `livetier import-orders` (issue 15) against a real server: a file of a shop's history goes in
 * through POST /v1/purchases/batch; bad lines are listed with their line numbers and lose nothing
 * beside them; running it again records nothing twice. Both stores (the server's).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStream, startServer, type TestServer } from '../helpers/server.js';
import { BIN, REPO } from '../helpers/process.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await startServer();
});
afterEach(async () => {
  await srv.close();
});

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'import-orders', ...args], { cwd: REPO });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('livetier import-orders', () => {
  it('imports a file in batches, lists the rejected lines by number, and is safe to run again', async () => {
    const s = await createStream(srv, { channel: 'import-shop', currency: 'CNY' });
    const file = path.join(srv.dir, 'orders.csv');
    const lines = ['order_id,customer_id,date,amount,currency,skus'];
    for (let i = 0; i < 25; i++) lines.push(`o-${i},c-${i % 10},2025-0${1 + (i % 9)}-1${i % 10},${100 + i}.50,CNY,TEA-01|CUP-0${i % 3}`);
    lines.push('o-bad-1,c-1,someday,10,CNY'); // line 27
    lines.push(''); // blank: skipped
    lines.push('o-bad-2,c-1,2025-01-01,10,USD'); // line 29: not the channel's currency (the server says)
    lines.push('"o-q,1",c-2,2025-02-02,7,CNY'); // line 30: a quoted id with a comma
    writeFileSync(file, lines.join('\r\n') + '\r\n');

    const first = await run(['--server', srv.url, '--ingest-key', s.ingestKey, '--batch', '10', file]);
    expect(first.err).toMatch(/orders read/);
    expect(first.out).toMatch(/^28 orders in [\d.]+ s: 26 recorded, 0 already recorded, 0 conflicting, 2 rejected/);
    expect(first.out).toContain('line 27: date "someday" is not YYYY-MM-DD');
    expect(first.out).toMatch(/line 29: body\.orders\.\d+\.currency USD is not channel import-shop's currency CNY/);
    expect(first.code).toBe(3);
    const c0 = (await srv.api('GET', `/v1/streams/${s.id}/viewers/c-0`, undefined, s.hostKey)).body;
    expect(c0.stats).toMatchObject({ purchases: 3, spend: 10_050 + 11_050 + 12_050 });

    const again = await run(['--server', srv.url, '--ingest-key', s.ingestKey, file]);
    expect(again.out).toMatch(/^28 orders in [\d.]+ s: 0 recorded, 26 already recorded, 0 conflicting, 2 rejected/);
    expect((await srv.api('GET', `/v1/streams/${s.id}/viewers/c-0`, undefined, s.hostKey)).body.stats).toMatchObject({ purchases: 3 });
  });

  it('says what is wrong: usage, a missing file or header, a wrong key', async () => {
    const s = await createStream(srv, { channel: 'import-shop-2' });
    expect((await run(['--server', srv.url, 'x.csv'])).code).toBe(2);
    const missing = await run(['--server', srv.url, '--ingest-key', s.ingestKey, path.join(srv.dir, 'nope.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read .*nope\.csv/);
    const noHeader = path.join(srv.dir, 'bad.csv');
    writeFileSync(noHeader, 'id,who,when\n1,2,3\n');
    const bad = await run(['--server', srv.url, '--ingest-key', s.ingestKey, noHeader]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/the header has no order_id column/);
    const good = path.join(srv.dir, 'good.csv');
    writeFileSync(good, 'order_id,customer_id,date,amount,currency\no-1,c,2025-01-01,1,CNY\n');
    const wrongKey = await run(['--server', srv.url, '--ingest-key', 'lt_ingest_nope', good]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toMatch(/answered 401/);
  });
});
