/**
 * The whole loop over real sockets: viewers track → merchant reports purchases → tiers move →
 * offers pushed live → hosts see it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startServer, createStream, viewerToken, connectViewer, client, connect, waitFor, collect, until, closeAllClients, eid,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';

let srv: TestServer;
let stream: StreamKeys;

beforeEach(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Spring sale', channel: 'shop-a' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const buy = (orderId: string, viewerId: string, amount: number, extra: Record<string, unknown> = {}) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY', ...extra }, stream.ingestKey);

describe('the whole loop', () => {
  it('healthz answers when ready', async () => {
    expect(await srv.api('GET', '/healthz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('creates a stream with keys and the default channel', async () => {
    const r = await srv.api('POST', '/v1/streams', { title: 'Plain' }, 'test-admin-key-0123456789');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ title: 'Plain', channel: 'default' });
    expect(r.body.hostKey).toMatch(/^lt_host_/);
    expect(r.body.ingestKey).toMatch(/^lt_ingest_/);
    expect(r.body.id).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('persists tracked events before the ack and counts them', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v1' });
    const events = [
      { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'love it' } },
      { id: eid(), type: 'like', ts: Date.now() },
      { id: eid(), type: 'product_view', ts: Date.now(), data: { sku: 'SKU-1', price: 9900 } },
      { id: eid(), type: 'add_to_cart', ts: Date.now(), data: { sku: 'SKU-1' } },
    ];
    const ack = await socket.emitWithAck('track', events);
    expect(ack).toEqual({ accepted: 4, duplicates: 0, rejected: [] });
    // committed before the ack: a separate connection to the database sees them now
    const n = await withSql(srv, (q) => q.get<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE stream_id = ?', stream.id));
    expect(n!.n).toBe(4);
  });

  it('a verified purchase moves a viewer up and pushes the VIP offer live; the host sees it', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'alice');
    const { socket, hello } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_anon1', token });
    expect(hello).toMatchObject({ viewerId: 'alice', verified: true });
    const offers = collect(socket, 'offer');

    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    const snapshot = waitFor<any>(host, 'snapshot');
    const updates = collect<any>(host, 'update');
    await connect(host);
    expect((await snapshot).tiers).toEqual({ high: 0, mid: 0, potential: 1 });

    // first purchase: potential → mid, the limited-time deal
    expect((await buy('o-1', 'alice', 60_000)).status).toBe(201);
    await until(() => offers.length === 1, 5000, 'mid offer');
    expect(offers[0]).toMatchObject({ campaign: 'default:deal', discount: { kind: 'amount', value: 3000 } });
    await until(() => updates.some((u) => u.tiers.mid === 1), 2000, 'host update to mid');

    // second purchase, ¥1,200 in total within 90 days: mid → high, the VIP perk
    expect((await buy('o-2', 'alice', 60_000)).status).toBe(201);
    await until(() => offers.length === 2, 5000, 'vip offer');
    const vip = offers[1];
    expect(vip).toMatchObject({ campaign: 'default:vip', discount: { kind: 'percent', value: 15 } });
    expect(vip.code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/);
    expect(vip.expiresAt).toBeGreaterThan(Date.now());
    await until(() => updates.some((u) => u.tiers.high === 1 && u.orders === 2 && u.gmv === 120_000), 2000, 'host update to high');

    const summary = await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ tiers: { high: 1, mid: 0, potential: 0 }, audience: 1, connected: 1, orders: 2, gmv: 120_000 });
    await until(async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.offers.delivered === 2, 3000, 'delivered count');

    const list = await srv.api('GET', `/v1/streams/${stream.id}/viewers?tier=high`, undefined, stream.hostKey);
    expect(list.status).toBe(200);
    expect(list.body.viewers).toHaveLength(1);
    expect(list.body.viewers[0]).toMatchObject({ id: 'alice', tier: 'high', verified: true, connected: true });
    expect(list.body.viewers[0].reasons[0]).toContain('2 verified orders, ¥1,200 in 90 days');
  });

  it('the same order reported twice is recorded once (200 the second time)', async () => {
    const first = await buy('o-9', 'bob', 5000);
    const again = await buy('o-9', 'bob', 5000);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const conflict = await buy('o-9', 'bob', 7000);
    expect(conflict.status).toBe(409);
    const s = await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(s.body).toMatchObject({ orders: 1, gmv: 5000 });
  });

  it('a purchase reported by the browser never counts as money', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'carol');
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'x', token });
    const ack = await socket.emitWithAck('track', [
      { id: eid(), type: 'purchase', ts: Date.now(), data: { orderId: 'fake-1', amount: 9_999_999, currency: 'CNY' } },
      { id: eid(), type: 'purchase', ts: Date.now(), data: { orderId: 'fake-2', amount: 9_999_999, currency: 'CNY' } },
    ]);
    expect(ack.accepted).toBe(2);
    const list = await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey);
    expect(list.body.viewers[0]).toMatchObject({ id: 'carol', tier: 'potential' });
    const s = await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(s.body).toMatchObject({ orders: 0, gmv: 0, tiers: { potential: 1, mid: 0, high: 0 } });
  });

  it('a host push reaches only the connected viewers of that tier, each with their own code', async () => {
    const tokens = await Promise.all(['h1', 'm1', 'p1', 'p2'].map((v) => viewerToken(srv, stream.ingestKey, v)));
    await buy('a', 'h1', 80_000);
    await buy('b', 'h1', 80_000);
    await buy('c', 'm1', 1000);
    const sockets = await Promise.all(['h1', 'm1', 'p1', 'p2'].map((v, i) => connectViewer(srv, { streamId: stream.id, viewerId: v, token: tokens[i] })));
    const got = sockets.map(({ socket }) => collect<any>(socket, 'offer'));
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(host);
    const ack = await host.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash: 10% off', discount: { kind: 'percent', value: 10 }, ttlSeconds: 120 } });
    expect(ack).toEqual({ sent: 2, held: 0, skipped: 0 });
    await until(() => got[2].some((o) => o.title === 'Flash: 10% off') && got[3].some((o) => o.title === 'Flash: 10% off'), 5000, 'push');
    const p1 = got[2].find((o) => o.title === 'Flash: 10% off');
    const p2 = got[3].find((o) => o.title === 'Flash: 10% off');
    expect(p1.code).not.toBe(p2.code);
    expect(p1.expiresAt - p1.serverNow).toBeGreaterThan(110_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(got[0].some((o) => o.title === 'Flash: 10% off')).toBe(false);
    expect(got[1].some((o) => o.title === 'Flash: 10% off')).toBe(false);

    const bad = await host.emitWithAck('push', { tier: 'gold', offer: { title: 'x', discount: { kind: 'percent', value: 10 }, ttlSeconds: 60 } });
    expect(bad.error.code).toBe('bad_request');
    expect(bad.error.message).toContain('tier');
  });
});
