/**
 * PostgreSQL lost while viewers send: `track` answers `unavailable` with `retryAfterMs` per call
 * (the client keeps its events and resends them), REST answers 503 with Retry-After, /healthz
 * answers 503; when the database is back everything recovers by itself, and every event the
 * server acknowledged is stored, once. The database is cut off through a TCP proxy, so the
 * PostgreSQL server the other test files share keeps running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { startServer, createStream, connectViewer, closeAllClients, eid, until, TEST_STORE, type TestServer } from '../helpers/server.js';
import { createDatabase } from '../helpers/pg.js';
import { tcpProxy, type CuttableProxy } from '../helpers/proxy.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  closeAllClients();
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.skipIf(TEST_STORE !== 'postgres')('PostgreSQL outage (the PostgreSQL half only: SQLite has no server to lose)', () => {
  it('answers unavailable and 503 while the database is away, recovers by itself, and stores every acknowledged event once', async () => {
    const url = await createDatabase(inject('pgRun') || undefined);
    const direct = new URL(url);
    const proxy: CuttableProxy = await tcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    cleanup.push(() => proxy.close());
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const srv: TestServer = await startServer({ db: proxied.toString(), app: { limits: { eventsPerSecond: 0 } } });
    cleanup.push(() => srv.close());
    const stream = await createStream(srv);
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'steady' });

    // a client like the SDK: every event keeps its id until an ack covers it; `unavailable` keeps it queued
    const generated: string[] = [];
    const acked = new Set<string>();
    let queue: { id: string; type: 'comment'; ts: number; data: { text: string } }[] = [];
    let unavailable = 0;
    let retryAfterMs: number | undefined;
    let generating = true;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        if (generating) {
          for (let i = 0; i < 5; i++) {
            const id = eid('o');
            generated.push(id);
            queue.push({ id, type: 'comment', ts: Date.now(), data: { text: 'still here' } });
          }
        }
        const batch = queue.slice(0, 100);
        if (batch.length) {
          const ack = await socket.timeout(10_000).emitWithAck('track', batch).catch(() => null);
          if (ack && !('error' in ack)) {
            for (const e of batch) acked.add(e.id);
            queue = queue.filter((e) => !acked.has(e.id));
          } else if (ack && ack.error.code === 'unavailable') {
            unavailable++;
            retryAfterMs = ack.error.retryAfterMs;
          }
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    await until(() => acked.size >= 20, 10_000, 'events acknowledged before the outage');
    await proxy.cut();
    await until(() => unavailable >= 3, 15_000, 'track answered unavailable');
    expect(retryAfterMs).toBeGreaterThan(0);
    const rest = await fetch(`${srv.url}/v1/streams/${stream.id}/summary`, { headers: { authorization: `Bearer ${stream.hostKey}` } });
    expect(rest.status).toBe(503);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await rest.json()).error).toBe('unavailable');
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(503);
    const ackedDuringOutage = acked.size;

    await proxy.restore();
    await until(async () => (await fetch(`${srv.url}/healthz`)).status === 200, 15_000, 'healthz back to 200');
    await until(() => acked.size > ackedDuringOutage + 20, 15_000, 'acks again after the outage');
    generating = false;
    await until(() => queue.length === 0, 15_000, 'the queued events sent');
    sending = false;
    await sender;
    expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).status).toBe(200);

    // every generated event was acknowledged in the end, and each is stored exactly once
    expect(acked.size).toBe(generated.length);
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      const { rows } = await check.query<{ id: string; n: string }>('SELECT id, COUNT(*) AS n FROM events WHERE stream_id = $1 GROUP BY id', [stream.id]);
      expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(generated));
      const viewer = await check.query<{ comments: string }>("SELECT comments FROM viewers WHERE id = 'anon:steady'");
      expect(Number(viewer.rows[0]!.comments)).toBe(generated.length);
    } finally {
      await check.end();
    }
  }, 90_000);
});
