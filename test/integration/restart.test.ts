/**
 * An acknowledged event is never lost: it is in the database after the server restarts, and a
 * client that resends it after reconnecting gets it counted as a duplicate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startServer, createStream, connectViewer, closeAllClients, eid, viewerToken, collect, until, client, connect, manualClock, type TestServer } from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';

// every server of a test shares one database: all stop before the first removes it
const servers: TestServer[] = [];
afterEach(async () => {
  closeAllClients();
  const done = servers.splice(0);
  for (const s of done) await s.stop();
  for (const s of done) await s.close();
});

describe('restart', () => {
  it("keeps the host's live history: the trend and the activity lines from before a restart are in the next host's snapshot", async () => {
    const clock = manualClock(Date.UTC(2026, 11, 2, 20, 0, 1));
    const t0 = Math.floor(clock() / 5000) * 5000; // the trend's first bucket
    const a = await startServer({ clock });
    servers.push(a);
    const stream = await createStream(a, { title: 'Mid-show deploy' });
    const host = client(a, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    const trendA = collect<any[]>(host, 'trend');
    await connect(host);
    const { socket } = await connectViewer(a, { streamId: stream.id, viewerId: 'chatty' });
    await until(() => trendA.flat().some((p) => p.t === t0 && p.connected === 1), 5000, 'the first bucket with the viewer');
    clock.advance(10_000); // a later bucket: the first one is closed with the viewer in it
    expect((await socket.emitWithAck('track', [{ id: eid('c'), type: 'comment', ts: Date.now(), data: { text: 'before the deploy' } }])).accepted).toBe(1);
    expect((await a.api('POST', '/v1/purchases', { orderId: 'h1', viewerId: 'buyer', amount: 9900, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    await until(() => trendA.flat().some((p) => p.t > t0), 5000, 'a point in the later bucket');
    // the history is saved about once a second, and what is unsaved is saved when the server closes
    closeAllClients();
    await a.stop();

    clock.advance(60_000);
    const b = await startServer({ db: a.db, clock });
    servers.push(b);
    const next = client(b, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    const activity = collect<any[]>(next, 'activity');
    const trend = collect<any[]>(next, 'trend');
    await connect(next);
    await until(() => activity.length > 0 && trend.length > 0, 5000, 'the snapshot');
    expect(activity[0]!.map((i: any) => (i.type === 'comment' ? `comment:${i.text}` : i.type === 'purchase' ? `purchase:${i.orderId}` : i.type)))
      .toEqual(expect.arrayContaining(['comment:before the deploy', 'purchase:h1']));
    expect(new Set(activity[0]!.map((i: any) => i.id)).size).toBe(activity[0]!.length); // ids fresh in the new process, unique
    const points = trend[0]!;
    expect(points.find((p: any) => p.t === t0)).toMatchObject({ connected: 1 });
    expect(points[points.length - 1].t).toBeGreaterThan(t0 + 60_000);
  });

  it('keeps every acknowledged event, streams, keys and pending offers across a restart', async () => {
    const a = await startServer();
    servers.push(a);
    const stream = await createStream(a, { title: 'Durable' });
    const viewers = await Promise.all([1, 2, 3, 4, 5].map((i) => connectViewer(a, { streamId: stream.id, viewerId: `v${i}` })));
    const sent: { id: string }[][] = viewers.map(() => []);
    let acked = 0;
    await Promise.all(
      viewers.map(async ({ socket }, i) => {
        for (let b = 0; b < 10; b++) {
          const batch = Array.from({ length: 20 }, () => ({ id: eid(`r${i}`), type: 'like', ts: Date.now() }));
          sent[i]!.push(...batch);
          const ack = await socket.emitWithAck('track', batch);
          acked += ack.accepted;
        }
      }),
    );
    expect(acked).toBe(1000);
    await a.api('POST', '/v1/purchases', { orderId: 'p1', viewerId: 'offline-olga', amount: 5000, currency: 'CNY' }, stream.ingestKey);
    closeAllClients();
    await a.stop();

    const b = await startServer({ db: a.db });
    servers.push(b);
    expect(await withSql(b, async (q) => (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n)).toBe(1000);

    // the same keys still work, and a client resending what it already sent gets duplicates
    const { socket } = await connectViewer(b, { streamId: stream.id, viewerId: 'v1' });
    const ack = await socket.emitWithAck('track', sent[0]!.slice(0, 50));
    expect(ack).toEqual({ accepted: 0, duplicates: 50, rejected: [] });
    const summary = await b.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(summary.body).toMatchObject({ audience: 5, orders: 1, gmv: 5000 });

    // the offer issued before the restart still reaches its viewer
    const token = await viewerToken(b, stream.ingestKey, 'offline-olga');
    const s = client(b, '/viewer', { streamId: stream.id, viewerId: 'x', token });
    const got = collect<any>(s, 'offer');
    await connect(s);
    await until(() => got.length === 1, 5000, 'offer after restart');
    expect(got[0].campaign).toBe('default:deal');
  });

  it('a cart left before a restart still gets its cart_abandoned offer after it, once; a purchase closes it', async () => {
    const clock = manualClock();
    const a = await startServer({ clock });
    servers.push(a);
    const stream = await createStream(a, { title: 'Carts', channel: 'cart-shop' });
    const c = await a.api('POST', `/v1/streams/${stream.id}/campaigns`, {
      name: 'Cart', trigger: { type: 'cart_abandoned', afterSeconds: 600 },
      offer: { title: 'Still thinking?', discount: { kind: 'amount', value: 800 }, ttlSeconds: 3600 },
    }, stream.hostKey);
    expect(c.status).toBe(201);
    const join = async (srv: TestServer, id: string) => {
      const s = client(srv, '/viewer', { streamId: stream.id, viewerId: id, token: await viewerToken(srv, stream.ingestKey, id) });
      const offers = collect<any>(s, 'offer');
      await connect(s);
      // by id: an offer issued while its viewer's join was still sending the pending ones can come
      // twice (pushed, and as pending); the contract is at least once, the widget shows it once
      return { s, offers: () => [...new Map(offers.filter((o) => o.campaign === c.body.id).map((o) => [o.id, o])).values()] };
    };
    const cart = (s: Socket) => s.emitWithAck('track', [{ id: eid('cart'), type: 'add_to_cart', ts: Date.now(), data: { sku: 'TEA-01' } }]);
    const [ann, ben, cal] = [await join(a, 'ann'), await join(a, 'ben'), await join(a, 'cal')];
    await cart(cal.s); // cal's cart is answered before the restart
    clock.advance(601_000);
    await a.app.engine.tick();
    await until(() => cal.offers().length === 1, 5000, 'cal offer before restart');
    await Promise.all([cart(ann.s), cart(ben.s)]);
    await a.api('POST', '/v1/purchases', { orderId: 'ben-1', viewerId: 'ben', amount: 12_800, currency: 'CNY' }, stream.ingestKey);
    closeAllClients();
    await a.stop();

    // ten minutes later, after a restart: ann's cart is due, ben bought, cal already had the offer
    clock.advance(601_000);
    const b = await startServer({ db: a.db, clock });
    servers.push(b);
    const [ann2, ben2, cal2] = [await join(b, 'ann'), await join(b, 'ben'), await join(b, 'cal')];
    await b.app.engine.tick();
    await until(() => ann2.offers().length === 1, 5000, 'ann cart offer after restart');
    await b.app.engine.tick();
    // an ack round trip on each socket: whatever the ticks sent has arrived by its end
    await Promise.all([ann2, ben2].map(({ s }) => s.emitWithAck('track', [])));
    expect(ann2.offers()).toHaveLength(1);
    expect(ben2.offers()).toHaveLength(0);
    // cal's offer from before the restart is re-sent (undelivered offers are), but no second one was issued
    const rows = await withSql(b, (q) => q.all('SELECT viewer_id FROM offers WHERE campaign = ? ORDER BY viewer_id', c.body.id));
    expect(rows).toEqual([{ viewer_id: 'ann' }, { viewer_id: 'cal' }]);
    expect(cal2.offers().length).toBeLessThanOrEqual(1);
  });
});
