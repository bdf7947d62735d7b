/**
 * The numbers live-commerce hosts read (issue 16; server/stats/kpis.ts defines each): a scripted
 * stream on the server's clock, whose expected values are written here, read back from the report
 * and from the host socket's live funnel (the raw feed forwards the same message). Both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { client, closeAllClients, collect, connect, connectViewer, createStream, eid, manualClock, startServer, until, viewerToken, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  clock = manualClock();
  srv = await startServer({ clock });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

describe('the numbers hosts read', () => {
  it('GPM, UV value, average watch time, peak, rates, new and returning, as defined', async () => {
    // an earlier stream of the channel: "old" is known before the second one begins
    const first = await createStream(srv, { channel: 'kpi-shop' });
    (await connectViewer(srv, { streamId: first.id, viewerId: 'old' })).socket.close();
    clock.advance(3_600_000);

    const s = await createStream(srv, { channel: 'kpi-shop' });
    const host = client(srv, '/host', { streamId: s.id, hostKey: s.hostKey });
    const funnels = collect<any>(host, 'funnel');
    await connect(host);
    const v: Record<string, Awaited<ReturnType<typeof connectViewer>>['socket']> = {};
    // b is logged in (a token of the shop's): the merchant reports b's order
    for (const id of ['old', 'a', 'b', 'c']) {
      const token = id === 'b' ? await viewerToken(srv, s.ingestKey, 'b') : undefined;
      v[id] = (await connectViewer(srv, { streamId: s.id, viewerId: id, ...(token ? { token } : {}) })).socket;
    }
    const track = (id: string, events: { type: string; data?: Record<string, unknown> }[]) =>
      v[id]!.emitWithAck('track', events.map((e) => ({ id: eid(), ts: clock(), ...e })));
    const watch = { type: 'watch', data: { playing: true, engagedMs: 10_000 } };
    clock.advance(10_000);
    await track('a', [watch, { type: 'comment', data: { text: 'hi' } }]);
    await track('b', [watch, { type: 'product_view', data: { sku: 'TEA' } }, { type: 'add_to_cart', data: { sku: 'TEA' } }]);
    await track('c', [{ type: 'product_view', data: { sku: 'CUP' } }, { type: 'comment', data: { text: 'nice cup' } }]);
    clock.advance(10_000);
    await track('a', [watch]);
    expect((await srv.api('POST', '/v1/purchases', { orderId: 'k-1', viewerId: 'b', amount: 30_000, currency: 'CNY' }, s.ingestKey)).status).toBe(201);

    // 4 viewers (1 known before), watch 20 s + 10 s, 2 commenters, 2 product viewers, 1 cart, 1 buyer of ¥300
    const expected = {
      viewers: 4, gpm: 7_500_000, uvValue: 7_500, avgWatchSeconds: 8, peakConnected: 4, commentRate: 0.5, productClickRate: 0.5,
      addToCartRate: 0.25, conversion: 0.25, newViewers: 3, returningViewers: 1,
    };
    expect((await srv.api('GET', `/v1/streams/${s.id}/report`, undefined, s.hostKey)).body.kpis).toEqual(expected);
    // live: the host's funnel carries them too, within the dashboard's throttle
    await until(() => JSON.stringify(funnels.at(-1)?.kpis) === JSON.stringify(expected), 5000, () => `the live numbers (last ${JSON.stringify(funnels.at(-1)?.kpis)})`);
  });
});
