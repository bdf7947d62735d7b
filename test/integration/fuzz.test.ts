/**
 * Property-based fuzzing (fast-check) of every input surface against a real server: `track`
 * payloads, the socket handshake `auth`, every REST body, path parameter and query, the beacon
 * body and the tier-rules document. Invariants: no 5xx, no crash, no accepted event that violates
 * the schema, nothing already stored is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { io as ioClient, type Socket } from 'socket.io-client';
import { startServer, createStream, connectViewer, closeAllClients, ADMIN_KEY, type TestServer, type StreamKeys } from '../helpers/server.js';
import { checkEvent } from '../../server/ingest/schema.js';
import { EVENT_TYPES } from '../../server/realtime/events.js';
import { runs } from '../helpers/property.js';
import { sql, type SqlReader } from '../helpers/sql.js';


let srv: TestServer;
let A: StreamKeys;
let R: StreamKeys; // a stream whose keys the fuzzer may rotate
let socket: Socket;
let ro: SqlReader;
const CODES = new Set(['bad_request', 'unauthorized', 'forbidden', 'not_found', 'origin_not_allowed', 'unavailable', 'internal', 'rate_limited', 'too_many_connections']);

beforeAll(async () => {
  srv = await startServer({ app: { limits: { eventsPerSecond: 0, restPerMinute: 0, connectionsPerMinute: 0 } } });
  A = await createStream(srv, { channel: 'fuzz' });
  R = await createStream(srv, { channel: 'fuzz' });
  socket = (await connectViewer(srv, { streamId: A.id, viewerId: 'fuzzer' })).socket;
  // sentinels: stored before the fuzzing, must all be there after it
  const ack = await socket.emitWithAck('track', Array.from({ length: 20 }, (_, i) => ({ id: `sentinel-${i}`, type: 'comment', ts: 1, data: { text: `keep ${i}` } })));
  expect(ack.accepted).toBe(20);
  await srv.api('POST', '/v1/purchases', { orderId: 'sentinel-order', viewerId: 'keeper', amount: 5000, currency: 'CNY' }, A.ingestKey);
  ro = await sql(srv);
});

afterAll(async () => {
  try {
    // nothing stored was lost, and the server still answers; the sentinels are the fuzzer's own (events
    // are keyed per viewer, so a fuzzed beacon may store a `sentinel-3` of another viewer beside them)
    const sentinels = await ro.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE stream_id = ? AND viewer_id = 'anon:fuzzer' AND id LIKE 'sentinel-%'", A.id);
    expect(sentinels!.n).toBe(20);
    expect((await ro.get<{ n: number }>("SELECT COUNT(*) AS n FROM purchases WHERE order_id = 'sentinel-order'"))!.n).toBe(1);
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
  } finally {
    await ro?.close();
    closeAllClients();
    await srv?.close();
  }
});

const id = fc.oneof(fc.string({ minLength: 1, maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/), fc.constant('sentinel-3'));
const type = fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string({ maxLength: 20 }));
const data = fc.oneof(
  fc.constant(undefined),
  fc.record({ text: fc.string({ maxLength: 600 }) }, { requiredKeys: [] }),
  fc.record({ playing: fc.boolean(), engagedMs: fc.oneof(fc.integer(), fc.double()) }, { requiredKeys: [] }),
  fc.record({ sku: fc.string({ maxLength: 80 }), price: fc.oneof(fc.integer(), fc.double(), fc.string()), quantity: fc.integer() }, { requiredKeys: [] }),
  fc.record({ orderId: fc.string(), amount: fc.integer(), currency: fc.string({ maxLength: 4 }) }, { requiredKeys: [] }),
  fc.record({ offerId: id, count: fc.integer(), pollId: id, value: fc.integer() }, { requiredKeys: [] }),
  fc.jsonValue(),
);
const event = fc.oneof(
  { weight: 4, arbitrary: fc.record({ id, type, ts: fc.oneof(fc.nat(), fc.double(), fc.constant(-1)), data }, { requiredKeys: ['id', 'type', 'ts'] }) },
  { weight: 1, arbitrary: fc.anything() },
);

describe('track payloads', () => {
  it('every event is judged alone; only valid ones are stored; acks always come back', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: fc.array(event, { maxLength: 30 }) }, { weight: 1, arbitrary: fc.anything() }), async (payload) => {
        // each run gets its own id space, so "stored by this run" is exact
        const prefix = `r${run++}-`;
        const batch = Array.isArray(payload)
          ? payload.map((e) => (e && typeof e === 'object' && !Array.isArray(e) && typeof (e as any).id === 'string' ? { ...(e as object), id: prefix + (e as any).id } : e))
          : payload;
        const ack = await socket.timeout(10_000).emitWithAck('track', batch);
        if (!Array.isArray(batch)) {
          expect(ack.error.code).toBe('bad_request');
          return;
        }
        expect(ack.accepted + ack.duplicates + ack.rejected.length).toBe(batch.length);
        const valid = batch.map((e) => checkEvent(e)).filter((c) => c.ok) as { ok: true; event: { id: string; type: string } }[];
        expect(ack.rejected.length).toBe(batch.length - valid.length);
        const rows = await ro.all<{ id: string; type: string; data: string | null }>('SELECT id, type, data FROM events WHERE stream_id = ? AND id LIKE ?', A.id, `${prefix.replace(/[%_]/g, '\\$&')}%`);
        for (const r of rows) expect(valid.some((v) => v.event.id === r.id && v.event.type === r.type), `stored ${r.id} ${r.type}`).toBe(true);
        expect(rows.length).toBe(ack.accepted);
      }),
      { numRuns: runs(150) },
    );
    expect(socket.connected).toBe(true);
  });
});

describe('handshake auth', () => {
  it('connects or refuses with a code from the closed set, never anything else', async () => {
    const auth = fc.oneof(
      fc.anything(),
      fc.record({ streamId: fc.oneof(fc.constant(A.id), fc.string()), viewerId: fc.oneof(fc.string({ maxLength: 200 }), fc.anything()), token: fc.oneof(fc.string(), fc.anything()) }, { requiredKeys: [] }),
      fc.record({ streamId: fc.oneof(fc.constant(A.id), fc.anything()), hostKey: fc.oneof(fc.constant(A.hostKey), fc.string(), fc.anything()) }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(auth, fc.constantFrom('/viewer', '/host'), async (a, nsp) => {
        const got = await new Promise<string>((resolve) => {
          const s = ioClient(srv.url + nsp, { auth: a as any, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 10_000 });
          s.on('connect', () => (resolve('ok'), s.close()));
          s.on('connect_error', (err) => (resolve(err.message), s.close()));
          // a CONNECT packet whose auth is not an object breaks the protocol: the server closes the connection
          // (the manager reports its close before the namespace's connect_error: give that a moment to arrive)
          s.io.on('close', () => setTimeout(() => resolve('closed'), 500));
        });
        const plain = !!a && typeof a === 'object' && !Array.isArray(a);
        expect(got === 'ok' || CODES.has(got) || (!plain && got === 'closed'), `${got} for ${JSON.stringify(a)}`).toBe(true);
      }),
      { numRuns: runs(80) },
    );
  });
});

describe('host socket payloads', () => {
  it('push and poll:open answer every payload with a result or an error code, and the host stays connected', async () => {
    const host = ioClient(srv.url + '/host', { auth: { streamId: A.id, hostKey: A.hostKey }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((r) => host.once('connect', () => r()));
    const offer = fc.record(
      { title: fc.oneof(fc.string({ maxLength: 130 }), fc.anything()), description: fc.string({ maxLength: 600 }), discount: fc.oneof(fc.record({ kind: fc.constantFrom('percent', 'amount', 'x'), value: fc.oneof(fc.integer(), fc.double()) }), fc.anything()), ttlSeconds: fc.oneof(fc.integer(), fc.anything()), minSpend: fc.integer() },
      { requiredKeys: [] },
    );
    const push = fc.oneof(fc.anything(), fc.record({ tier: fc.oneof(fc.constantFrom('high', 'mid', 'potential'), fc.string()), offer }, { requiredKeys: [] }));
    const poll = fc.oneof(fc.anything(), fc.record({ question: fc.oneof(fc.string({ maxLength: 250 }), fc.anything()), seconds: fc.oneof(fc.integer(), fc.double(), fc.anything()) }, { requiredKeys: [] }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('push', 'poll:open'), push, poll, async (event, p, q) => {
        const ack = await host.timeout(10_000).emitWithAck(event, event === 'push' ? p : q);
        if (ack && typeof ack === 'object' && 'error' in ack) expect(CODES.has(ack.error.code), JSON.stringify(ack)).toBe(true);
        else if (event === 'push') expect(ack).toMatchObject({ sent: expect.any(Number) });
        else expect(ack).toMatchObject({ id: expect.any(String), closesAt: expect.any(Number) });
      }),
      { numRuns: runs(80) },
    );
    expect(host.connected).toBe(true);
    host.close();
  });
});

/** JSON-ish bodies: random values, and objects with the right field names but random values. */
const body = (fields: string[]) =>
  fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.constantFrom(...fields, 'extra'), fc.jsonValue(), { maxKeys: fields.length + 1 }),
  );
const segment = fc.oneof(fc.string({ maxLength: 100 }), fc.constantFrom('..', '%', '%00', '../../etc/passwd', 'a/b', ' ', '\u0000', 'default:deal'));

describe('REST', () => {
  const surfaces: { name: string; method: string; path: (seg: string) => string; key: () => string; fields: string[] }[] = [
    { name: 'create stream', method: 'POST', path: () => '/v1/streams', key: () => ADMIN_KEY, fields: ['title', 'channel', 'id', 'allowedOrigins'] },
    { name: 'rotate', method: 'POST', path: (s) => `/v1/streams/${Math.random() < 0.5 ? R.id : encodeURIComponent(s)}/keys/rotate`, key: () => ADMIN_KEY, fields: ['graceSeconds'] },
    { name: 'viewer token', method: 'POST', path: () => '/v1/viewer-tokens', key: () => A.ingestKey, fields: ['viewerId', 'ttlSeconds'] },
    { name: 'purchase', method: 'POST', path: () => '/v1/purchases', key: () => A.ingestKey, fields: ['orderId', 'viewerId', 'amount', 'currency', 'items', 'couponCode', 'at'] },
    { name: 'refund', method: 'POST', path: () => '/v1/refunds', key: () => A.ingestKey, fields: ['orderId', 'amount'] },
    { name: 'redeem', method: 'POST', path: (s) => `/v1/coupons/${encodeURIComponent(s)}/redeem`, key: () => A.ingestKey, fields: ['orderId', 'viewerId'] },
    { name: 'campaign', method: 'POST', path: () => `/v1/streams/${A.id}/campaigns`, key: () => A.hostKey, fields: ['name', 'trigger', 'offer', 'limits', 'holdoutPercent', 'audience'] },
    { name: 'campaign patch', method: 'PATCH', path: (s) => `/v1/streams/${A.id}/campaigns/${encodeURIComponent(s)}`, key: () => A.hostKey, fields: ['status', 'name', 'limits', 'holdoutPercent'] },
    { name: 'tier rules', method: 'PUT', path: (s) => `/v1/channels/${Math.random() < 0.7 ? 'fuzz' : encodeURIComponent(s)}/tier-rules`, key: () => ADMIN_KEY, fields: ['mode', 'absolute', 'scores', 'lookbackDays', 'minBuyers', 'lifecycle'] },
  ];
  for (const s of surfaces) {
    it(`${s.method} ${s.name}: never a 5xx, always the error shape`, async () => {
      await fc.assert(
        fc.asyncProperty(body(s.fields), segment, async (b, seg) => {
          const r = await srv.api(s.method, s.path(seg), b === undefined ? 'null' : b, s.key());
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
          if (r.status >= 400) expect(r.body).toMatchObject({ statusCode: r.status, error: expect.any(String), message: expect.any(String) });
        }),
        { numRuns: runs(60) },
      );
    });
  }

  it('path parameters and queries of the read endpoints: never a 5xx', async () => {
    const reads = (seg: string, q: string) => [
      [`/v1/streams/${encodeURIComponent(seg)}/summary`, A.hostKey],
      [`/v1/streams/${A.id}/viewers?${q}`, A.hostKey],
      [`/v1/streams/${A.id}/viewers/${encodeURIComponent(seg)}`, A.hostKey],
      [`/v1/streams/${A.id}/viewers.csv?${q}`, A.hostKey],
      [`/v1/streams/${A.id}/report?${q}`, A.hostKey],
      [`/v1/streams/${A.id}/campaigns/${encodeURIComponent(seg)}`, A.hostKey],
      [`/v1/viewers/${encodeURIComponent(seg)}/export?${q}`, ADMIN_KEY],
      [`/v1/channels/${encodeURIComponent(seg)}/tier-rules`, ADMIN_KEY],
      [`/${encodeURIComponent(seg)}`, ''],
      [`/demo/${encodeURIComponent(seg)}`, ''],
      [`/host/${encodeURIComponent(seg)}`, ''],
    ] as const;
    const query = fc.dictionary(fc.constantFrom('tier', 'limit', 'channel', 'cursor', 'x'), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('high', '5', '-1', '99999', 'fuzz')), { maxKeys: 3 })
      .map((d) => new URLSearchParams(d).toString());
    await fc.assert(
      fc.asyncProperty(segment, query, async (seg, q) => {
        for (const [p, k] of reads(seg, q)) {
          const r = await srv.api('GET', p, undefined, k || undefined);
          expect(r.status, `${p} ${JSON.stringify(r.body).slice(0, 200)}`).toBeLessThan(500);
        }
      }),
      { numRuns: runs(40) },
    );
    // erasure with random ids and channels: never a 5xx (and the sentinels are checked at the end)
    await fc.assert(
      fc.asyncProperty(segment, fc.string({ maxLength: 20 }), async (seg, ch) => {
        const r = await srv.api('DELETE', `/v1/viewers/${encodeURIComponent(seg)}?channel=${encodeURIComponent(ch)}`, undefined, ADMIN_KEY);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: runs(40) },
    );
  });

  it('beacon bodies (text/plain): never a 5xx', async () => {
    const beacon = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ streamId: fc.oneof(fc.constant(A.id), fc.string()), viewerId: fc.oneof(fc.string(), fc.anything()), token: fc.anything(), events: fc.oneof(fc.array(event, { maxLength: 20 }), fc.anything()) }, { requiredKeys: [] })
        .map((v) => JSON.stringify(v) ?? 'null'),
    );
    await fc.assert(
      fc.asyncProperty(beacon, async (text) => {
        const r = await srv.api('POST', '/v1/collect', text, undefined, { 'content-type': 'text/plain;charset=UTF-8' });
        expect(r.status, String(r.body).slice(0, 200)).toBeLessThan(500);
      }),
      { numRuns: runs(100) },
    );
  });
});
