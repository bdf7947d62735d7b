/**
 * Work a commit makes due is not lost with the process (jobs/due.ts): the real server as a child
 * process, killed (SIGKILL) at a chosen point by `LIVETIER_FAULT`, restarted on the same
 * database. Both stores.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { spawnServer, haveBuild, sleep, CHILD_ADMIN_KEY, type Child } from '../helpers/process.js';
import { testDatabase, until, type TestDatabase } from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';

const children: Child[] = [];
const databases: TestDatabase[] = [];
const sockets: Socket[] = [];

beforeAll(() => {
  if (!haveBuild()) throw new Error('dist/server is not built: run `npx tsc -p tsconfig.build.json` (npm test builds first)');
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
  for (const d of databases.splice(0)) await d.remove();
});

async function start(db: string, env: Record<string, string> = {}) {
  const c = await spawnServer({ db, env });
  children.push(c);
  return c;
}

const offersOf = (db: string, streamId: string, viewerId: string) =>
  withSql(db, (q) => q.all<{ id: string; campaign: string }>('SELECT id, campaign FROM offers WHERE stream_id = ? AND viewer_id = ?', streamId, viewerId));

describe('the offers a purchase earns', () => {
  it('survive a crash between the purchase commit and the offer: after a restart the viewer gets the offer once', async () => {
    const d = await testDatabase({ prefix: 'livetier-outbox-' });
    databases.push(d);
    let server = await start(d.db, { LIVETIER_FAULT: 'after-purchase-commit' });
    const r = await server.api('POST', '/v1/streams', { title: 'Outbox', channel: 'outbox-shop' }, CHILD_ADMIN_KEY);
    expect(r.status).toBe(201);
    const stream = r.body as { id: string; ingestKey: string };

    // the viewer's first purchase (¥250) moves them up to mid: the default deal is earned by it
    const order = { orderId: 'order-1', viewerId: 'buyer-1', amount: 25_000, currency: 'CNY' };
    await expect(server.api('POST', '/v1/purchases', order, stream.ingestKey)).rejects.toThrow();
    expect(await server.exited).toBe('SIGKILL');
    // the purchase is stored, its offer is not (yet)
    expect(await withSql(d.db, (q) => q.all('SELECT order_id FROM purchases WHERE order_id = ?', 'order-1'))).toHaveLength(1);
    expect(await offersOf(d.db, stream.id, 'buyer-1')).toEqual([]);

    server = await start(d.db);
    // the merchant retries (it got no answer): the order is known, nothing is issued twice
    expect((await server.api('POST', '/v1/purchases', order, stream.ingestKey)).status).toBe(200);
    // the job the dead process held is claimed after its lease and run
    await until(async () => (await offersOf(d.db, stream.id, 'buyer-1')).length > 0, 20_000, () => `the earned offer issued after the restart\n${server.output()}`);

    const t = await server.api('POST', '/v1/viewer-tokens', { viewerId: 'buyer-1' }, stream.ingestKey);
    const offers: { campaign: string }[] = [];
    const s = ioClient(`${server.url}/viewer`, { auth: { streamId: stream.id, viewerId: 'x', token: t.body.token }, transports: ['websocket'], forceNew: true });
    sockets.push(s);
    s.on('offer', (o: { campaign: string }, ack?: (r: unknown) => void) => {
      offers.push(o);
      ack?.({ ok: true });
    });
    await until(() => offers.length > 0, 5000, 'the offer delivered');
    await sleep(1500); // a second run of the job (ticks every second) would issue another
    expect(offers.map((o) => o.campaign)).toEqual(['default:deal']);
    expect((await offersOf(d.db, stream.id, 'buyer-1')).map((o) => o.campaign)).toEqual(['default:deal']);
  }, 60_000);
});
