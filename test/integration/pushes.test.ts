/**
 * The host's pushes (issue 16): a push can hold back a control group (`holdoutPercent`, acked as
 * `held`), pushes are a log (GET /v1/streams/:id/pushes, newest first, paged) rather than rows of
 * the campaigns table (`?adhoc=false`), and each shows its funnel and uplift. Both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { client, closeAllClients, collect, connect, createStream, manualClock, startServer, viewerToken, type StreamKeys, type TestServer } from '../helpers/server.js';
import { armOf } from '../../server/offers/rules.js';

let srv: TestServer;
let stream: StreamKeys;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  clock = manualClock();
  srv = await startServer({ clock });
  stream = await createStream(srv, { title: 'Pushes', channel: 'push-shop', id: 'pushes' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const host = (path: string) => srv.api('GET', `/v1/streams/${stream.id}${path}`, undefined, stream.hostKey);
const offer = (title: string) => ({ title, discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 });

async function hostSocket() {
  const s = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
  await connect(s);
  return s;
}

async function viewers(n: number) {
  const out: { id: string; socket: Socket; offers: any[] }[] = [];
  for (let i = 0; i < n; i++) {
    const id = `v${i}`;
    const s = client(srv, '/viewer', { streamId: stream.id, viewerId: id, token: await viewerToken(srv, stream.ingestKey, id) });
    const offers = collect<any>(s, 'offer');
    const hello = new Promise((r) => s.once('hello', r));
    await connect(s);
    await hello;
    out.push({ id, socket: s, offers });
  }
  return out;
}

describe('host pushes', () => {
  it('hold back the share asked for: acked as held, no offer for them, the arm as the rules draw it', async () => {
    const vs = await viewers(30);
    const h = await hostSocket();
    const ack = await h.emitWithAck('push', { tier: 'potential', offer: offer('Held'), holdoutPercent: 30 });
    expect(ack.sent + ack.held).toBe(30);
    expect(ack.held).toBeGreaterThan(0);
    expect(ack.skipped).toBe(0);
    const { pushes } = (await host('/pushes')).body;
    expect(pushes).toHaveLength(1);
    const p = pushes[0];
    expect(p).toMatchObject({ tier: 'potential', holdoutPercent: 30, sent: ack.sent, held: ack.held, offer: { title: 'Held' } });
    // the control viewers are exactly those the deterministic draw puts there, and got nothing
    const control = vs.filter((v) => armOf(stream.id, p.id, v.id, 30) === 'control').map((v) => v.id);
    expect(control).toHaveLength(ack.held);
    await Promise.all(vs.map((v) => v.socket.emitWithAck('track', [])));
    expect(vs.filter((v) => v.offers.length === 0).map((v) => v.id)).toEqual(control);
    // without holdoutPercent: nobody held (as before)
    clock.advance(180_000); // past the frequency cap
    expect(await h.emitWithAck('push', { tier: 'potential', offer: offer('All') })).toEqual({ sent: 30, held: 0, skipped: 0 });
  });

  it('refuses a holdout outside 0–50 in the ack, naming the field', async () => {
    const h = await hostSocket();
    for (const holdoutPercent of [51, -1, 12.5, '10']) {
      const ack = await h.emitWithAck('push', { tier: 'high', offer: offer('Bad'), holdoutPercent });
      expect(ack.error.code, String(holdoutPercent)).toBe('bad_request');
      expect(ack.error.message).toMatch(/^holdoutPercent /);
    }
    expect((await host('/pushes')).body.pushes).toEqual([]);
  });

  it('are a log, newest first with a cursor, and out of the campaigns table with ?adhoc=false', async () => {
    await viewers(2);
    const h = await hostSocket();
    for (let i = 0; i < 5; i++) {
      await h.emitWithAck('push', { tier: 'potential', offer: offer(`Push ${i}`) });
      clock.advance(180_000);
    }
    const first = await host('/pushes?limit=2');
    expect(first.body.pushes.map((p: any) => p.offer.title)).toEqual(['Push 4', 'Push 3']);
    expect(first.body.pushes[0]).toMatchObject({ sent: 2, held: 0, delivered: expect.any(Number), redeemed: 0, uplift: { enoughData: false } });
    const second = await host(`/pushes?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.pushes.map((p: any) => p.offer.title)).toEqual(['Push 2', 'Push 1']);
    const last = await host(`/pushes?limit=2&cursor=${second.body.nextCursor}`);
    expect(last.body).toMatchObject({ pushes: [{ offer: { title: 'Push 0' } }], nextCursor: null });

    const all = (await host('/campaigns')).body.campaigns;
    expect(all.filter((c: any) => c.adhoc)).toHaveLength(5);
    const own = (await host('/campaigns?adhoc=false')).body.campaigns;
    expect(own.map((c: any) => c.id)).toEqual(['default:vip', 'default:deal', 'default:first-order', 'default:win-back']);
    expect((await host('/campaigns?adhoc=true')).body.campaigns).toHaveLength(5);

    // bad parameters: 400 naming them
    expect((await host('/campaigns?adhoc=maybe')).body.message).toMatch(/querystring\.adhoc/);
    expect((await host('/pushes?limit=0')).body.message).toMatch(/querystring\.limit/);
    expect((await host('/pushes?limit=1000')).body.message).toMatch(/querystring\.limit/);
    expect((await host('/pushes?cursor=bm9wZQ')).body.message).toMatch(/querystring\.cursor/);
  });
});
