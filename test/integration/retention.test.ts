/**
 * Retention: events older than the configured number of days are purged in small background
 * batches; ingest goes on meanwhile; the aggregates the tiers need stay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startServer, createStream, connectViewer, closeAllClients, eid, manualClock, type TestServer } from '../helpers/server.js';
import { RetentionPurger, DAY_MS } from '../../server/store/retention.js';
import { withSql } from '../helpers/sql.js';

const servers: TestServer[] = [];
afterEach(async () => {
  closeAllClients();
  for (const s of servers.splice(0)) await s.close();
});

/** the `n` of a `SELECT COUNT(*) AS n …` */
const count = (srv: TestServer, text: string, ...args: unknown[]) => withSql(srv, async (q) => (await q.get<{ n: number }>(text, ...args))!.n);

async function send(socket: Socket, n: number, type = 'like') {
  let accepted = 0;
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, () => (type === 'comment' ? { id: eid('c'), type, ts: 1, data: { text: 'hello' } } : { id: eid('l'), type, ts: 1 }));
    accepted += (await socket.emitWithAck('track', batch)).accepted;
  }
  return accepted;
}

describe('retention', () => {
  it('purges old events in batches while ingest goes on, and keeps the aggregates', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const srv = await startServer({ clock, app: { limits: { eventsPerSecond: 0 } } });
    servers.push(srv);
    const stream = await createStream(srv);
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'old-timer' });
    expect(await send(socket, 3000)).toBe(3000);
    expect(await send(socket, 5, 'comment')).toBe(5);
    const before = (await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey)).body.viewers[0];
    expect(before.thisStream).toMatchObject({ likes: 3000, comments: 5 });

    clock.advance(31 * DAY_MS);
    const purger = new RetentionPurger((cutoff, batch) => srv.app.store.purgeEvents(cutoff, batch), { days: 30, clock, batch: 10 });
    let purged = false;
    const purge = purger.purge().then((n) => ((purged = true), n));
    // ingest is served between the purge's batches: this ack comes back before the purge ends
    const ack = await socket.emitWithAck('track', [{ id: eid('new'), type: 'like', ts: 1 }]);
    expect(ack.accepted).toBe(1);
    // SQLite deletes `batch` rows at a time and yields to ingest between batches, so the ack comes
    // back mid-purge; PostgreSQL drops the old day's partition whole in one short transaction
    // (server/store/postgres/partitions.ts): there are no batches to interleave with
    if (srv.kind === 'sqlite') expect(purged).toBe(false);
    expect(await purge).toBe(3005);
    if (srv.kind === 'sqlite') expect(purger.stats.batches).toBeGreaterThan(300);

    expect(await count(srv, 'SELECT COUNT(*) AS n FROM events WHERE stream_id = ?', stream.id)).toBe(1);
    // the aggregates are untouched: the viewer's counts, tier and the summary
    const after = (await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey)).body.viewers[0];
    expect(after.thisStream).toMatchObject({ likes: 3001, comments: 5 });
    expect(after.stats).toMatchObject({ likes: 3001, comments: 5 });
    expect(after.tier).toBe(before.tier);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.audience).toBe(1);
    // nothing newer than the cutoff goes
    expect(await purger.purge()).toBe(0);
  });

  it('runs on its own at start when retentionDays is set, and not at all when it is 0', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const a = await startServer({ clock });
    const stream = await createStream(a);
    const { socket } = await connectViewer(a, { streamId: stream.id, viewerId: 'v' });
    expect(await send(socket, 20)).toBe(20);
    closeAllClients();
    await a.stop();

    clock.advance(10 * DAY_MS);
    const kept = await startServer({ clock, db: a.db, app: { retentionDays: 0 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(await count(a, 'SELECT COUNT(*) AS n FROM events')).toBe(20);
    await kept.stop();

    const b = await startServer({ clock, db: a.db, app: { retentionDays: 7 } });
    servers.push(b);
    await expect.poll(() => count(a, 'SELECT COUNT(*) AS n FROM events'), { timeout: 5000 }).toBe(0);
    expect(await count(a, 'SELECT COUNT(*) AS n FROM viewer_streams')).toBe(1);
    expect(b.app.retention.stats.deleted).toBe(20);
  });
});
