/**
 * The tiering engine over the real server: cheat-proof watch time, tabs, lapsed buyers,
 * refunds, value across a channel's streams and isolation between channels, tier rules, the
 * viewer list and detail, export and erasure.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY, startServer, createStream, viewerToken, connectViewer, client, connect, waitFor, collect, until, closeAllClients, eid, manualClock,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';

const DAY = 86_400_000;
let srv: TestServer;
let stream: StreamKeys;

afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const buy = (s: StreamKeys, orderId: string, viewerId: string, amount: number, extra: Record<string, unknown> = {}) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY', ...extra }, s.ingestKey);
const detail = (s: StreamKeys, viewerId: string) => srv.api('GET', `/v1/streams/${s.id}/viewers/${encodeURIComponent(viewerId)}`, undefined, s.hostKey);
const summary = async (s: StreamKeys) => (await srv.api('GET', `/v1/streams/${s.id}/summary`, undefined, s.hostKey)).body;
const beat = (engagedMs: number) => ({ id: eid('hb'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs } });
async function verified(s: StreamKeys, viewerId: string) {
  const token = await viewerToken(srv, s.ingestKey, viewerId);
  return connectViewer(srv, { streamId: s.id, viewerId: 'x', token });
}

describe('cheat-proof inputs (manual clock)', () => {
  let clock: ReturnType<typeof manualClock>;
  beforeEach(async () => {
    clock = manualClock();
    srv = await startServer({ clock });
    stream = await createStream(srv, { title: 'Tiers', channel: 'shop-a' });
  });

  it('heartbeats claiming long engagement within one second credit one second, and earn no engagement', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'cheat' });
    clock.advance(1000);
    await socket.emitWithAck('track', Array.from({ length: 100 }, () => beat(600_000)));
    const d = await detail(stream, 'anon:cheat');
    expect(d.status).toBe(200);
    expect(d.body.thisStream.watchSeconds).toBe(1);
    expect(d.body.stats.watchSeconds).toBe(1);
    expect(d.body.scores).toEqual({ recency: null, frequency: null, monetary: null, engagement: 1 });
    expect(d.body).toMatchObject({ tier: 'potential', lifecycle: 'new' });
  });

  it('three tabs of one viewer: time counted once, one viewer in the tier and lifecycle counts', async () => {
    const tabs = await Promise.all([1, 2, 3].map(() => verified(stream, 'tabby')));
    for (let i = 0; i < 4; i++) {
      clock.advance(10_000);
      await Promise.all(tabs.map(({ socket }) => socket.emitWithAck('track', [beat(10_000)])));
    }
    expect((await detail(stream, 'tabby')).body.thisStream.watchSeconds).toBe(40);
    expect(await summary(stream)).toMatchObject({ connected: 1, tiers: { potential: 1, mid: 0, high: 0 }, lifecycle: { new: 1, active: 0, at_risk: 0, lapsed: 0 } });
  });

  it('an engaged watcher scores higher than a drive-by, and says so', async () => {
    const fan = await verified(stream, 'fan');
    const passer = await verified(stream, 'passer');
    for (let i = 0; i < 60; i++) {
      clock.advance(15_000);
      await fan.socket.emitWithAck('track', [beat(15_000)]);
    }
    await fan.socket.emitWithAck('track', Array.from({ length: 12 }, () => ({ id: eid(), type: 'comment', ts: Date.now(), data: { text: 'so good' } })));
    await passer.socket.emitWithAck('track', [{ id: eid(), type: 'like', ts: Date.now() }]);
    const f = (await detail(stream, 'fan')).body;
    const p = (await detail(stream, 'passer')).body;
    expect(f.stats).toMatchObject({ watchSeconds: 900, comments: 12 });
    expect(f.scores.engagement).toBe(4); // 15 minutes + 12 comments = 39 points
    expect(f.reasons).toContain('engagement 4/5: watches and takes part but has not bought, worth a first-order offer');
    expect(p.scores.engagement).toBe(1);
    const byEngagement = await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=engagement`, undefined, stream.hostKey);
    expect(byEngagement.body.viewers.map((v: any) => v.id)).toEqual(['fan', 'passer']);
  });

  it('lifecycle moves with time: new, then at_risk after 30 days without a visit', async () => {
    const { socket } = await verified(stream, 'drifter');
    expect((await detail(stream, 'drifter')).body.lifecycle).toBe('new');
    socket.close();
    clock.advance(8 * DAY);
    expect((await detail(stream, 'drifter')).body).toMatchObject({ lifecycle: 'active' });
    clock.advance(30 * DAY);
    const d = (await detail(stream, 'drifter')).body;
    expect(d.lifecycle).toBe('at_risk');
    expect(d.reasons).toContain('at risk: no visit for 38 days');
  });

  it('two abandoned checkouts in a row put a viewer at risk; a purchase clears it', async () => {
    const { socket } = await verified(stream, 'hesitant');
    clock.advance(8 * DAY);
    for (let i = 0; i < 2; i++) {
      await socket.emitWithAck('track', [{ id: eid(), type: 'checkout', ts: Date.now(), data: { amount: 9900 } }]);
      clock.advance(2 * 3_600_000);
    }
    const d = (await detail(stream, 'hesitant')).body;
    expect(d.lifecycle).toBe('at_risk');
    expect(d.reasons).toContain('at risk: 2 abandoned checkouts in a row');
    expect(d.thisStream.checkouts).toBe(2);
    expect(await summary(stream)).toMatchObject({ lifecycle: { at_risk: 1 } });
    expect((await buy(stream, 'o-h', 'hesitant', 9900)).status).toBe(201); // `at`: the engine's now
    expect((await detail(stream, 'hesitant')).body.lifecycle).toBe('active');
  });

  it('three offers that expired unclicked put a viewer at risk; a clicked one breaks the row', async () => {
    const { socket } = await verified(stream, 'ignorer');
    const got = collect<any>(socket, 'offer');
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(host);
    clock.advance(8 * DAY); // past "new"
    const push = () => host.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash', discount: { kind: 'percent', value: 10 }, ttlSeconds: 60 } });
    for (let i = 1; i <= 3; i++) {
      expect(await push()).toEqual({ sent: 1, held: 0, skipped: 0 });
      await until(() => got.length === i, 3000, `offer ${i}`);
      clock.advance(5 * 60_000); // expired, unclicked; also past the campaign frequency cap
    }
    const d = (await detail(stream, 'ignorer')).body;
    expect(d.lifecycle).toBe('at_risk');
    expect(d.reasons).toContain('at risk: last 3 offers ignored');
    // a fourth offer, clicked, ends the row
    expect(await push()).toEqual({ sent: 1, held: 0, skipped: 0 });
    await until(() => got.length === 4, 3000, 'offer 4');
    await socket.emitWithAck('track', [{ id: eid(), type: 'offer_click', ts: Date.now(), data: { offerId: got[3].id } }]);
    clock.advance(5 * 60_000);
    expect((await detail(stream, 'ignorer')).body.lifecycle).toBe('active');
  });
});

describe('purchases, refunds, channels (real clock)', () => {
  beforeEach(async () => {
    srv = await startServer();
    stream = await createStream(srv, { title: 'Tiers', channel: 'shop-a' });
  });

  it('a purchase 200 days ago: lapsed, first seen then, and not counted in the 90/180-day tiers', async () => {
    const at = Date.now() - 200 * DAY;
    expect((await buy(stream, 'old-1', 'oldie', 50_000, { at })).status).toBe(201);
    const d = await detail(stream, 'oldie');
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ tier: 'potential', lifecycle: 'lapsed', stats: { purchases: 1, spend: 50_000, firstSeenAt: at, lastPurchaseAt: at } });
    expect(d.body.scores).toMatchObject({ recency: 1, frequency: 1, monetary: 3 }); // 200 days > 180, 1 order, ¥500 (fixed cut points)
    expect(d.body.reasons).toEqual(['no verified purchase in 180 days', 'lapsed: last verified order 200 days ago (lapsed after 180 days)']);
    const lapsed = await srv.api('GET', `/v1/streams/${stream.id}/viewers?lifecycle=lapsed`, undefined, stream.hostKey);
    expect(lapsed.body.viewers).toHaveLength(0); // lists hold the stream's audience; oldie never joined this stream
    await verified(stream, 'oldie');
    expect(await summary(stream)).toMatchObject({ lifecycle: { lapsed: 1 } });
    const again = await srv.api('GET', `/v1/streams/${stream.id}/viewers?lifecycle=lapsed`, undefined, stream.hostKey);
    expect(again.body.viewers.map((v: any) => v.id)).toEqual(['oldie']);
  });

  it('refunds lower spend and GMV, move the viewer down live, and are idempotent', async () => {
    const { socket } = await verified(stream, 'alice');
    collect(socket, 'offer');
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    const updates = collect<any>(host, 'update');
    await connect(host);
    await buy(stream, 'r-1', 'alice', 60_000);
    await buy(stream, 'r-2', 'alice', 60_000);
    expect((await detail(stream, 'alice')).body.tier).toBe('high');

    const r = await srv.api('POST', '/v1/refunds', { orderId: 'r-2' }, stream.ingestKey);
    expect(r).toEqual({ status: 200, body: { orderId: 'r-2', viewerId: 'alice', amount: 60_000, refunded: 60_000, currency: 'CNY' } });
    const d = (await detail(stream, 'alice')).body;
    expect(d).toMatchObject({ tier: 'mid', stats: { purchases: 1, spend: 60_000 } });
    await until(() => updates.some((u) => u.tiers.mid === 1 && u.tiers.high === 0 && u.gmv === 60_000), 3000, 'host sees the refund');
    // the same refund again changes nothing
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'r-2' }, stream.ingestKey)).status).toBe(200);
    expect(await summary(stream)).toMatchObject({ gmv: 60_000, tiers: { mid: 1 } });
    // partial: the total refunded so far
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'r-1', amount: 20_000 }, stream.ingestKey)).body.refunded).toBe(20_000);
    expect((await detail(stream, 'alice')).body.stats.spend).toBe(40_000);
    const list = await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=value`, undefined, stream.hostKey);
    expect(list.body.viewers[0]).toMatchObject({ id: 'alice', stats: { spend: 40_000 } });
  });

  it('a refund after a restart (no cached profile) still re-tiers the stored viewer', async () => {
    await buy(stream, 'q-1', 'eve', 60_000);
    await buy(stream, 'q-2', 'eve', 60_000);
    await srv.stop();
    srv = await startServer({ db: srv.db });
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'q-1' }, stream.ingestKey)).status).toBe(200);
    const row = await withSql(srv, (q) => q.get(`SELECT tier, spend, orders FROM viewers WHERE channel = 'shop-a' AND id = 'eve'`));
    expect(row).toEqual({ tier: 'mid', spend: 60_000, orders: 1 });
  });

  it('refund errors: unknown order 404, more than the order 400, lowering 409, wrong key 403', async () => {
    await buy(stream, 'e-1', 'bob', 10_000);
    const unknown = await srv.api('POST', '/v1/refunds', { orderId: 'nope' }, stream.ingestKey);
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const tooMuch = await srv.api('POST', '/v1/refunds', { orderId: 'e-1', amount: 10_001 }, stream.ingestKey);
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.message).toContain('body.amount');
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'e-1', amount: 5000 }, stream.ingestKey)).status).toBe(200);
    const lower = await srv.api('POST', '/v1/refunds', { orderId: 'e-1', amount: 4000 }, stream.ingestKey);
    expect(lower.status).toBe(409);
    const bad = await srv.api('POST', '/v1/refunds', { orderId: 'e-1', amount: -5 }, stream.ingestKey);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('amount');
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'e-1' }, stream.hostKey)).status).toBe(403);
  });

  it('value carries across a channel’s streams and never into another channel', async () => {
    const tomorrow = await createStream(srv, { title: 'Next stream', channel: 'shop-a' });
    const elsewhere = await createStream(srv, { title: 'Other shop', channel: 'shop-b' });
    await buy(stream, 'c-1', 'fan', 60_000);
    await buy(stream, 'c-2', 'fan', 60_000);
    // the next stream of the same channel: she arrives high-value
    await verified(tomorrow, 'fan');
    expect((await detail(tomorrow, 'fan')).body).toMatchObject({ tier: 'high', stats: { purchases: 2, spend: 120_000 }, thisStream: { watchSeconds: 0 } });
    expect(await summary(tomorrow)).toMatchObject({ tiers: { high: 1 } });
    // another channel knows nothing of her
    expect((await detail(elsewhere, 'fan')).status).toBe(404);
    await verified(elsewhere, 'fan');
    expect((await detail(elsewhere, 'fan')).body).toMatchObject({ tier: 'potential', stats: { purchases: 0, spend: 0 } });
    // and its keys cannot refund (or see) shop-a's orders
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'c-1' }, elsewhere.ingestKey)).status).toBe(404);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers/fan`, undefined, elsewhere.hostKey)).status).toBe(403);
  });

  it('tier rules: defaults, 400 naming the field, and a new document re-tiers connected viewers live', async () => {
    const url = '/v1/channels/shop-a/tier-rules';
    const got = await srv.api('GET', url, undefined, ADMIN_KEY);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ mode: 'absolute', absolute: { high: { minOrders: 2, minSpend: 100_000, windowDays: 90 } }, minBuyers: 50, lookbackDays: 365, lifecycle: { atRiskPAlive: 0.5 } });

    const bad1 = await srv.api('PUT', url, { mode: 'scores', scores: { high: { minRecency: 7 }, mid: { minRecency: 2 } } }, ADMIN_KEY);
    expect(bad1.status).toBe(400);
    expect(bad1.body.message).toContain('body.scores.high.minRecency');
    const bad2 = await srv.api('PUT', url, { mode: 'scores', scores: { high: {}, mid: { minRecency: 2 } } }, ADMIN_KEY);
    expect(bad2.status).toBe(400);
    expect(bad2.body.message).toContain('body.scores.high');
    const bad3 = await srv.api('PUT', url, { mode: 'gold' }, ADMIN_KEY);
    expect(bad3.status).toBe(400);
    expect(bad3.body.message).toContain('mode');
    const bad4 = await srv.api('PUT', url, { mode: 'absolute', absolute: { high: { minOrders: 1, minSpend: 0, windowDays: 90 }, mid: { minOrders: 2, windowDays: 180 } } }, ADMIN_KEY);
    expect(bad4.status).toBe(400);
    expect(bad4.body.message).toContain('body.absolute.high.minOrders');
    expect((await srv.api('PUT', url, { mode: 'absolute', extra: 1 }, ADMIN_KEY)).status).toBe(400);
    const lifecycle = { newDays: 7, atRiskDays: 30, abandonedCheckouts: 2, ignoredOffers: 3, lapsedDays: 180 };
    const bad5 = await srv.api('PUT', url, { mode: 'absolute', lifecycle: { ...lifecycle, atRiskPAlive: 1.5 } }, ADMIN_KEY);
    expect(bad5.status).toBe(400);
    expect(bad5.body.message).toContain('body.lifecycle.atRiskPAlive');
    const bad6 = await srv.api('PUT', url, { mode: 'scores', scores: { high: { topPredictedPercent: 0 }, mid: { minRecency: 2 } } }, ADMIN_KEY);
    expect(bad6.status).toBe(400);
    expect(bad6.body.message).toContain('body.scores.high.topPredictedPercent');
    // a lifecycle given without the predictive threshold keeps its default
    expect((await srv.api('PUT', url, { mode: 'absolute', lifecycle }, ADMIN_KEY)).body.lifecycle).toEqual({ ...lifecycle, atRiskPAlive: 0.5 });
    expect((await srv.api('PUT', url, { mode: 'absolute' }, stream.hostKey)).status).toBe(401);
    expect((await srv.api('GET', '/v1/channels/no-such/tier-rules', undefined, ADMIN_KEY)).status).toBe(404);

    const { socket } = await verified(stream, 'carol');
    const carolOffers = collect<any>(socket, 'offer');
    await buy(stream, 'g-1', 'carol', 5_000);
    // dave bought too, watched this stream, and left: he is re-tiered in the background
    const dave = await verified(stream, 'dave');
    await buy(stream, 'g-2', 'dave', 7_000);
    dave.socket.close();
    await until(async () => (await summary(stream)).connected === 1, 3000, 'dave gone');
    expect((await detail(stream, 'carol')).body.tier).toBe('mid');
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    const updates = collect<any>(host, 'update');
    await connect(host);
    // score-based: one recent order is enough for high
    const doc = { mode: 'scores', scores: { high: { minRecency: 4, minFrequency: 1 }, mid: { minEngagement: 5 } } };
    const put = await srv.api('PUT', url, doc, ADMIN_KEY);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ...doc, lookbackDays: 365, minBuyers: 50 });
    await until(() => updates.some((u) => u.tiers.high === 1 && u.tiers.mid === 0), 3000, 'host sees the re-tier');
    const d = (await detail(stream, 'carol')).body;
    expect(d.tier).toBe('high');
    expect(d.reasons[0]).toBe('R 5 · F 1 · M 1: 1 verified order, ¥50 in 365 days, last today (high needs R≥4 and F≥1)');
    // carol, connected, entered high: the VIP campaign (tier_entered high) fires for her, as for any upgrade
    await until(() => carolOffers.some((o) => o.campaign === 'default:vip'), 3000, 'the VIP perk after the re-tier');
    expect((await srv.api('GET', url, undefined, ADMIN_KEY)).body.mode).toBe('scores');
    await until(async () => {
      const highs = await srv.api('GET', `/v1/streams/${stream.id}/viewers?tier=high`, undefined, stream.hostKey);
      return highs.body.viewers.map((v: any) => v.id).sort().join() === 'carol,dave';
    }, 3000, 'the stored tiers of the whole channel');
    // the rules, and the tier they give, survive a restart
    closeAllClients();
    await srv.stop();
    srv = await startServer({ db: srv.db });
    const restarted = await srv.api('GET', url, undefined, ADMIN_KEY);
    expect(restarted.body.scores.high).toEqual({ minRecency: 4, minFrequency: 1 });
    expect((await detail(stream, 'carol')).body.tier).toBe('high');
  });

  it('the list: tier filter, sort by value, limit and cursor; a bad cursor is 400', async () => {
    for (const [v, amount] of [['a', 30_000], ['b', 10_000], ['c', 20_000]] as const) {
      await verified(stream, v);
      await buy(stream, `l-${v}`, v, amount);
    }
    await connectViewer(srv, { streamId: stream.id, viewerId: 'window-shopper' });
    const page1 = await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=value&limit=2`, undefined, stream.hostKey);
    expect(page1.body.viewers.map((v: any) => v.id)).toEqual(['a', 'c']);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=value&limit=2&cursor=${page1.body.nextCursor}`, undefined, stream.hostKey);
    expect(page2.body.viewers.map((v: any) => v.id)).toEqual(['b', 'anon:window-shopper']);
    const page3 = await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=value&limit=2&cursor=${page2.body.nextCursor}`, undefined, stream.hostKey);
    expect(page3.body).toEqual({ viewers: [], nextCursor: null });
    const mids = await srv.api('GET', `/v1/streams/${stream.id}/viewers?tier=mid&sort=value`, undefined, stream.hostKey);
    expect(mids.body.viewers.map((v: any) => v.id)).toEqual(['a', 'c', 'b']);
    expect(mids.body.viewers[0]).toMatchObject({ tier: 'mid', lifecycle: 'new', verified: true, connected: true, scores: { frequency: 1 } });
    const badCursor = await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=value&cursor=nonsense`, undefined, stream.hostKey);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.message).toContain('cursor');
    // a cursor of another sort is refused too
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=engagement&cursor=${page1.body.nextCursor}`, undefined, stream.hostKey)).status).toBe(400);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=price`, undefined, stream.hostKey)).status).toBe(400);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers?lifecycle=sleepy`, undefined, stream.hostKey)).status).toBe(400);
  });

  it('export gives everything stored; erasure removes the viewer from tiers, lists and answers', async () => {
    const { socket } = await verified(stream, 'dana');
    const closed = waitFor(socket, 'disconnect');
    await socket.emitWithAck('track', [{ id: eid(), type: 'comment', ts: Date.now(), data: { text: 'my address is …' } }]);
    await buy(stream, 'x-1', 'dana', 12_300, { items: [{ sku: 'TEA-01', quantity: 1 }] });
    expect(await summary(stream)).toMatchObject({ connected: 1, tiers: { mid: 1 }, orders: 1, gmv: 12_300 });

    const exp = await srv.api('GET', '/v1/viewers/dana/export?channel=shop-a', undefined, ADMIN_KEY);
    expect(exp.status).toBe(200);
    expect(exp.body).toMatchObject({ channel: 'shop-a', viewerId: 'dana', tier: 'mid', viewer: { id: 'dana', verified: 1 } });
    expect(exp.body.events.map((e: any) => e.type)).toEqual(['comment']);
    expect(exp.body.events[0].data).toEqual({ text: 'my address is …' });
    expect(exp.body.purchases).toMatchObject([{ order_id: 'x-1', amount: 12_300, items: [{ sku: 'TEA-01', quantity: 1 }] }]);
    expect(exp.body.streams).toMatchObject([{ stream_id: stream.id, comments: 1 }]);
    expect((await srv.api('GET', '/v1/viewers/dana/export', undefined, ADMIN_KEY)).status).toBe(400); // channel is required
    expect((await srv.api('GET', '/v1/viewers/dana/export?channel=shop-a', undefined, stream.hostKey)).status).toBe(401);

    const del = await srv.api('DELETE', '/v1/viewers/dana?channel=shop-a', undefined, ADMIN_KEY);
    expect(del).toEqual({ status: 200, body: { erased: true, channel: 'shop-a', viewerId: 'dana' } });
    await closed; // her sockets were closed
    expect((await detail(stream, 'dana')).status).toBe(404);
    expect((await srv.api('GET', '/v1/viewers/dana/export?channel=shop-a', undefined, ADMIN_KEY)).status).toBe(404);
    expect((await srv.api('DELETE', '/v1/viewers/dana?channel=shop-a', undefined, ADMIN_KEY)).status).toBe(404);
    const list = await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey);
    expect(list.body.viewers).toEqual([]);
    // the money stays in the stream's totals, with nobody attached to it
    expect(await summary(stream)).toMatchObject({ connected: 0, audience: 0, tiers: { high: 0, mid: 0, potential: 0 }, orders: 1, gmv: 12_300 });
  });
});
