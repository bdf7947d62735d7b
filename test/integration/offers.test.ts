/**
 * Offers: single-use codes bound to one viewer, delivered live or on reconnect until they expire,
 * and redeemed once by the merchant's backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startServer, createStream, viewerToken, connectViewer, client, connect, collect, until, closeAllClients, eid, manualClock,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';

let srv: TestServer;
let stream: StreamKeys;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  clock = manualClock();
  srv = await startServer({ clock });
  stream = await createStream(srv, { title: 'Offers', channel: 'shop' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const buy = (orderId: string, viewerId: string, amount: number, extra: Record<string, unknown> = {}) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY', ...extra }, stream.ingestKey);
const redeem = (code: string, orderId: string, viewerId: string) =>
  srv.api('POST', `/v1/coupons/${code}/redeem`, { orderId, viewerId }, stream.ingestKey);

async function offerFor(viewerId: string) {
  const token = await viewerToken(srv, stream.ingestKey, viewerId);
  const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId, token });
  const offers = collect<any>(socket, 'offer');
  await buy(`first-${viewerId}`, viewerId, 1000);
  await until(() => offers.length === 1, 5000, 'offer');
  return { socket, offer: offers[0], token };
}

describe('delivery', () => {
  it('an offer issued while the viewer is offline arrives when they reconnect, then is not re-sent', async () => {
    await buy('o1', 'dana', 5000); // dana is not connected: the mid deal waits for her
    const token = await viewerToken(srv, stream.ingestKey, 'dana');
    const s = client(srv, '/viewer', { streamId: stream.id, viewerId: 'dana', token });
    const got = collect<any>(s, 'offer');
    await connect(s);
    await until(() => got.length === 1, 5000, 'pending offer');
    expect(got[0]).toMatchObject({ campaign: 'default:deal' });
    await until(async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.offers.delivered === 1);
    s.close();
    const again = client(srv, '/viewer', { streamId: stream.id, viewerId: 'dana', token });
    const got2 = collect<any>(again, 'offer');
    await connect(again);
    await new Promise((r) => setTimeout(r, 300));
    expect(got2).toHaveLength(0);
  });

  it('an offer the client did not acknowledge is re-sent on reconnect', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'erin');
    const s = client(srv, '/viewer', { streamId: stream.id, viewerId: 'erin', token });
    const seen: any[] = [];
    s.on('offer', (o: any) => seen.push(o)); // never acks
    await connect(s);
    await buy('o1', 'erin', 5000);
    await until(() => seen.length === 1, 5000, 'first push');
    s.close();
    const s2 = client(srv, '/viewer', { streamId: stream.id, viewerId: 'erin', token });
    const got = collect<any>(s2, 'offer');
    await connect(s2);
    await until(() => got.length === 1, 5000, 're-sent offer');
    expect(got[0].id).toBe(seen[0].id);
    expect(got[0].code).toBe(seen[0].code);
  });

  it('an expired offer is never delivered', async () => {
    await buy('o1', 'finn', 5000);
    clock.advance(16 * 60_000); // the mid deal lives 15 minutes
    const token = await viewerToken(srv, stream.ingestKey, 'finn');
    const s = client(srv, '/viewer', { streamId: stream.id, viewerId: 'finn', token });
    const got = collect<any>(s, 'offer');
    await connect(s);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(0);
  });

  it('offers go only to their own viewer, across every tab of that viewer', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'gus');
    const tab1 = client(srv, '/viewer', { streamId: stream.id, viewerId: 'gus', token });
    const tab2 = client(srv, '/viewer', { streamId: stream.id, viewerId: 'gus', token });
    const stranger = client(srv, '/viewer', { streamId: stream.id, viewerId: 'gus' }); // anonymous "gus" is not gus
    const [a, b, c] = [collect<any>(tab1, 'offer'), collect<any>(tab2, 'offer'), collect<any>(stranger, 'offer')];
    await Promise.all([connect(tab1), connect(tab2), connect(stranger)]);
    await buy('o1', 'gus', 5000);
    await until(() => a.length === 1 && b.length === 1, 5000, 'both tabs');
    await new Promise((r) => setTimeout(r, 200));
    expect(c).toHaveLength(0);
    expect(a[0].id).toBe(b[0].id);
  });

  it('a potential viewer who has watched 5 minutes gets the first-order offer once', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'watcher' });
    const got = collect<any>(socket, 'offer');
    for (let i = 0; i < 29; i++) {
      clock.advance(10_000);
      await socket.emitWithAck('track', [{ id: eid('w'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: 10_000 } }]);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(0); // 4m50s
    clock.advance(10_000);
    await socket.emitWithAck('track', [{ id: eid('w'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: 10_000 } }]);
    await until(() => got.length === 1, 5000, 'first-order offer');
    expect(got[0]).toMatchObject({ campaign: 'default:first-order' });
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await socket.emitWithAck('track', [{ id: eid('w'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: 10_000 } }]);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(1);
  });
});

describe('redemption', () => {
  it('200, the same order again 200, another order 409', async () => {
    const { offer } = await offerFor('hana');
    const r1 = await redeem(offer.code, 'order-1', 'hana');
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ code: offer.code, viewerId: 'hana', orderId: 'order-1' });
    expect((await redeem(offer.code, 'order-1', 'hana')).status).toBe(200);
    const r3 = await redeem(offer.code, 'order-2', 'hana');
    expect(r3.status).toBe(409);
    expect(r3.body.message).toMatch(/already redeemed/);
  });

  it('codes are case-insensitive for people typing them', async () => {
    const { offer } = await offerFor('ivy');
    expect((await redeem(offer.code.toLowerCase(), 'order-1', 'ivy')).status).toBe(200);
  });

  it('404 for an unknown code, 403 for another viewer\'s code, 410 once expired', async () => {
    const { offer } = await offerFor('jack');
    expect((await redeem('NOTACODE22', 'o', 'jack')).status).toBe(404);
    const other = await redeem(offer.code, 'o', 'kate');
    expect(other.status).toBe(403);
    expect(other.body.message).toMatch(/another viewer/);
    clock.advance(16 * 60_000);
    const late = await redeem(offer.code, 'o', 'jack');
    expect(late.status).toBe(410);
    expect(late.body.message).toMatch(/expired/);
  });

  it('another channel\'s ingest key cannot see or redeem the code', async () => {
    const { offer } = await offerFor('lena');
    const foreign = await createStream(srv, { title: 'Elsewhere', channel: 'other-shop' });
    const r = await srv.api('POST', `/v1/coupons/${offer.code}/redeem`, { orderId: 'o', viewerId: 'lena' }, foreign.ingestKey);
    expect(r.status).toBe(404);
  });

  it('20 parallel redeems of one code by different orders: exactly one 200', async () => {
    const { offer } = await offerFor('max');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => redeem(offer.code, `race-${i}`, 'max')));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
  });

  it('a purchase carrying the coupon code redeems it', async () => {
    const { offer } = await offerFor('nia');
    const r = await buy('with-code', 'nia', 30_000, { couponCode: offer.code });
    expect(r.status).toBe(201);
    expect(r.body.coupon).toEqual({ code: offer.code, status: 'redeemed' });
    const s = await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(s.body.offers.redeemed).toBe(1);
    const stolen = await buy('thief', 'oscar', 30_000, { couponCode: offer.code });
    expect(stolen.status).toBe(201); // the money is real; the code is not honoured
    expect(stolen.body.coupon.status).toBe('other_viewer');
  });
});
