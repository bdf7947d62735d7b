/**
 * `livetier backup --db FILE --out FILE` while the server takes a load: the copy is consistent,
 * and a server started on it works (keys, events, summary, new ingest). The command copies a
 * SQLite file (its online backup API); on PostgreSQL it refuses and points to pg_dump.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, createStream, connectViewer, closeAllClients, eid, TEST_STORE, type TestServer } from '../helpers/server.js';
import { BIN, REPO, haveBuild } from '../helpers/process.js';
import { withSql } from '../helpers/sql.js';

const servers: TestServer[] = [];
afterEach(async () => {
  closeAllClients();
  for (const s of servers.splice(0)) await s.close();
});

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

// SQLite's online backup of a live file: PostgreSQL has its own tools, below
describe.skipIf(TEST_STORE !== 'sqlite')('livetier backup', () => {
  it('copies a live database consistently, and the copy runs a working server', async () => {
    expect(haveBuild(), 'dist/server is built (npm test builds first)').toBe(true);
    const a = await startServer({ app: { limits: { eventsPerSecond: 0 } } });
    servers.push(a);
    const stream = await createStream(a, { title: 'Backed up' });
    await a.api('POST', '/v1/purchases', { orderId: 'b-1', viewerId: 'buyer', amount: 12_000, currency: 'CNY' }, stream.ingestKey);
    const { socket } = await connectViewer(a, { streamId: stream.id, viewerId: 'busy' });
    let acked = 0;
    let stop = false;
    // the load goes on during the backup
    const load = (async () => {
      while (!stop) acked += (await socket.emitWithAck('track', Array.from({ length: 50 }, () => ({ id: eid('b'), type: 'like', ts: 1 })))).accepted;
    })();
    while (acked < 500) await new Promise((r) => setTimeout(r, 10));
    const ackedBefore = acked;
    const out = path.join(a.dir, 'copy.db');
    const r = await cli(['backup', '--db', a.db, '--out', out]);
    const ackedAfter = acked;
    stop = true;
    await load;
    expect(r.out).toContain('integrity ok');
    expect(r.code).toBe(0);

    const { n, vs } = await withSql(out, async (copy) => ({
      n: (await copy.get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n,
      vs: (await copy.get<{ likes: number }>('SELECT likes FROM viewer_streams WHERE viewer_id = ?', 'anon:busy'))!,
    }));
    // consistent: one point in time between the start and the end of the backup, whole batches only
    expect(n).toBeGreaterThanOrEqual(ackedBefore);
    expect(n).toBeLessThanOrEqual(ackedAfter + 50);
    expect(n % 50).toBe(0);
    expect(vs.likes).toBe(n); // the aggregate and the events agree: one transaction's view

    // restore: a server on the copy takes the same keys and carries on
    const b = await startServer({ db: out });
    servers.push(b);
    const summary = await b.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ orders: 1, gmv: 12_000, audience: 1 });
    const { socket: s2 } = await connectViewer(b, { streamId: stream.id, viewerId: 'after-restore' });
    expect((await s2.emitWithAck('track', [{ id: eid('r'), type: 'like', ts: 1 }])).accepted).toBe(1);
    const again = await b.api('POST', '/v1/purchases', { orderId: 'b-1', viewerId: 'buyer', amount: 12_000, currency: 'CNY' }, stream.ingestKey);
    expect(again.status).toBe(200); // the order is in the copy: a re-report is recognised
  });

  it('says what is wrong with its arguments', async () => {
    const target = path.join(tmpdir(), `livetier-never-${process.pid}.db`);
    const missing = await cli(['backup', '--db', '/nonexistent/livetier.db', '--out', target]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('no database at /nonexistent/livetier.db');
    const noOut = await cli(['backup', '--db', 'x.db']);
    expect(noOut.code).toBe(2);
    expect(noOut.out).toContain('--out');
    const same = await cli(['backup', '--db', BIN, '--out', BIN]);
    expect(same.code).toBe(1);
    expect(same.out).toContain('--out must differ');
    expect(existsSync(target)).toBe(false);
  });
});

// a PostgreSQL database is backed up with PostgreSQL's tools: the command says so instead of trying
describe.skipIf(TEST_STORE !== 'postgres')('livetier backup on PostgreSQL', () => {
  it('refuses with exit code 2, names pg_dump, writes nothing and never echoes the password', async () => {
    expect(haveBuild(), 'dist/server is built (npm test builds first)').toBe(true);
    const a = await startServer();
    servers.push(a);
    const out = path.join(a.dir, 'copy.db');
    const r = await cli(['backup', '--db', a.db, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('pg_dump');
    expect(existsSync(out)).toBe(false);

    const withPassword = new URL(a.db);
    withPassword.password = 'not-to-be-printed';
    const masked = await cli(['backup', '--db', withPassword.toString(), '--out', out]);
    expect(masked.code).toBe(2);
    expect(masked.out).toContain('pg_dump');
    expect(masked.out).not.toContain('not-to-be-printed');
  });
});
