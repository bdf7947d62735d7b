/**
 * Campaigns over real sockets and a real database: the REST contract, quotas, budgets and
 * per-viewer limits under concurrent sends and triggers, the frequency cap, each trigger type,
 * offline delivery and expiry, the holdout split and the uplift numbers of a scripted scenario.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import {
  startServer, createStream, viewerToken, connectViewer, client, connect, collect, until, closeAllClients, eid, manualClock,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { armOf } from '../../server/offers/rules.js';
import { withSql } from '../helpers/sql.js';

let srv: TestServer;
let stream: StreamKeys;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  clock = manualClock();
  srv = await startServer({ clock });
  stream = await createStream(srv, { title: 'Campaigns', channel: 'shop', id: 'camp' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const host = (method: string, path: string, body?: unknown) => srv.api(method, `/v1/streams/${stream.id}${path}`, body, stream.hostKey);
const buy = (orderId: string, viewerId: string, amount: number, extra: Record<string, unknown> = {}) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY', ...extra }, stream.ingestKey);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const manual = (over: Record<string, unknown> = {}) => ({
  name: 'Flash',
  trigger: { type: 'manual' },
  offer: { title: 'Flash: ¥10 off', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 600 },
  ...over,
});

async function create(doc: unknown): Promise<any> {
  const r = await host('POST', '/campaigns', doc);
  if (r.status !== 201) throw new Error(`create campaign: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Connects logged-in viewers; each collects (and acks) its offers. */
async function viewers(ids: string[]) {
  const out = new Map<string, { socket: Socket; offers: any[] }>();
  await Promise.all(
    ids.map(async (id) => {
      const token = await viewerToken(srv, stream.ingestKey, id);
      const s = client(srv, '/viewer', { streamId: stream.id, viewerId: id, token });
      const offers = collect<any>(s, 'offer');
      const hello = new Promise((r) => s.once('hello', r));
      await connect(s);
      await hello;
      out.set(id, { socket: s, offers });
    }),
  );
  return out;
}

function offerRows(campaign: string): Promise<{ viewer_id: string; value: number }[]> {
  return withSql(srv, (q) => q.all('SELECT viewer_id, value FROM offers WHERE stream_id = ? AND campaign = ?', stream.id, campaign));
}

/**
 * An ack round trip on each viewer's socket. The server sends an offer before the answer to the
 * REST call or engine tick that issued it, so once this returns every such offer has arrived:
 * what has not, was not sent.
 */
async function roundTrip(vs: Map<string, { socket: Socket }>, ids: string[]) {
  await Promise.all(ids.map((id) => vs.get(id)!.socket.emitWithAck('track', [])));
}

const range = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`);

describe('the campaign contract', () => {
  it('every stream starts with the four default campaigns, editable', async () => {
    const r = await host('GET', '/campaigns');
    expect(r.status).toBe(200);
    expect(r.body.campaigns.map((c: any) => [c.id, c.trigger.type, c.status])).toEqual([
      ['default:vip', 'tier_entered', 'active'],
      ['default:deal', 'tier_entered', 'active'],
      ['default:first-order', 'watch_milestone', 'active'],
      ['default:win-back', 'watch_milestone', 'active'],
    ]);
    expect(r.body.campaigns[0]).toMatchObject({
      limits: { perViewer: 1 }, holdoutPercent: 0, attributionHours: 24, issued: 0, committed: 0, budgetLeft: null,
      stats: { eligible: 0, issued: 0, control: 0, treatedConversion: null, uplift: { absolute: null, ci95: null, enoughData: false } },
    });
    const edited = await host('PATCH', '/campaigns/default:deal', { holdoutPercent: 10, limits: { maxIssued: 100 } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: 'default:deal', holdoutPercent: 10, limits: { perViewer: 1, maxIssued: 100 } });
    expect(edited.body.offer.title).toBe('Limited-time deal: ¥30 off');
  });

  it('create, read, pause, resume, edit', async () => {
    const c = await create(manual({ limits: { maxIssued: 5, budget: 4000 }, holdoutPercent: 20 }));
    expect(c.id).toMatch(/^c_/);
    expect(c).toMatchObject({ name: 'Flash', status: 'active', adhoc: false, limits: { perViewer: 1, maxIssued: 5, budget: 4000 }, budgetLeft: 4000 });
    const one = await host('GET', `/campaigns/${c.id}`);
    expect(one.status).toBe(200);
    expect(one.body.stats).toEqual({
      eligible: 0, issued: 0, delivered: 0, seen: 0, clicked: 0, redeemed: 0, control: 0,
      treatedConversion: null, controlConversion: null,
      uplift: { absolute: null, ci95: null, n: { treated: 0, control: 0 }, conversions: { treated: 0, control: 0 }, enoughData: false },
    });
    expect((await host('PATCH', `/campaigns/${c.id}`, { status: 'paused' })).body.status).toBe('paused');
    const paused = await host('POST', `/campaigns/${c.id}/send`);
    expect(paused.status).toBe(409);
    expect(paused.body.message).toMatch(/paused/);
    expect((await host('PATCH', `/campaigns/${c.id}`, { status: 'active', name: 'Flash 2' })).body).toMatchObject({ status: 'active', name: 'Flash 2' });
    expect((await host('POST', `/campaigns/${c.id}/send`)).body).toEqual({ sent: 0, held: 0, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } });
    const triggered = await host('POST', '/campaigns/default:vip/send');
    expect(triggered.status).toBe(409);
    expect(triggered.body.message).toMatch(/only manual/);
  });

  it('bad documents get 400 naming the field; unknown campaigns 404; keys are checked', async () => {
    const cases: [unknown, string][] = [
      [{ ...manual(), name: undefined }, 'name'],
      [manual({ trigger: { type: 'tier_entered' } }), 'body.trigger.tier'],
      [manual({ trigger: { type: 'watch_milestone' } }), 'body.trigger.watchSeconds'],
      [manual({ trigger: { type: 'cart_abandoned' } }), 'body.trigger.afterSeconds'],
      [manual({ trigger: { type: 'whenever' } }), 'body.trigger.type'],
      [manual({ audience: { tiers: ['gold'] } }), 'body.audience.tiers'],
      [manual({ limits: { perViewer: 0 } }), 'body.limits.perViewer'],
      [manual({ holdoutPercent: 99 }), 'body.holdoutPercent'],
      [manual({ offer: { title: 'x', discount: { kind: 'percent', value: 150 }, ttlSeconds: 60 } }), 'body.offer.discount.value'],
      [manual({ offer: { title: 'x', discount: { kind: 'percent', value: 10 }, ttlSeconds: 60 }, limits: { budget: 5000 } }), 'body.offer.maxDiscount'],
      [manual({ offer: { title: 'x', discount: { kind: 'amount', value: 10 }, ttlSeconds: 1 } }), 'body.offer.ttlSeconds'],
      [manual({ surprise: true }), 'surprise'],
    ];
    for (const [body, field] of cases) {
      const r = await host('POST', '/campaigns', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('bad_request');
      expect(r.body.message).toContain(field);
    }
    const c = await create(manual());
    const badPatch = await host('PATCH', `/campaigns/${c.id}`, { trigger: { type: 'watch_milestone' } });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.message).toContain('body.trigger.watchSeconds');
    expect((await host('PATCH', `/campaigns/${c.id}`, {})).status).toBe(400);
    expect((await host('PATCH', `/campaigns/${c.id}`, { status: 'sleeping' })).status).toBe(400);
    expect((await host('GET', '/campaigns/c_nope')).status).toBe(404);
    expect((await host('PATCH', '/campaigns/c_nope', { status: 'paused' })).status).toBe(404);
    expect((await host('POST', '/campaigns/c_nope/send')).status).toBe(404);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/campaigns`)).status).toBe(401);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/campaigns`, undefined, stream.ingestKey)).status).toBe(403);
    const other = await createStream(srv, { title: 'Other', channel: 'shop' });
    expect((await srv.api('GET', `/v1/streams/${stream.id}/campaigns/${c.id}`, undefined, other.hostKey)).status).toBe(403);
    // a campaign belongs to its stream
    expect((await srv.api('GET', `/v1/streams/${other.id}/campaigns/${c.id}`, undefined, other.hostKey)).status).toBe(404);
  });
});

describe('limits under concurrency', () => {
  it('a quota of 10 holds under 6 concurrent sends to 30 viewers', async () => {
    const vs = await viewers(range(30, 'q'));
    const c = await create(manual({ limits: { maxIssued: 10 } }));
    const results = await Promise.all(Array.from({ length: 6 }, () => host('POST', `/campaigns/${c.id}/send`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const sum = (f: (b: any) => number) => results.reduce((n, r) => n + f(r.body), 0);
    expect(sum((b) => b.sent)).toBe(10);
    expect(sum((b) => b.skipped.quota)).toBe(20 * 6);
    expect(sum((b) => b.skipped.alreadyHas)).toBe(10 * 5);
    expect(await offerRows(c.id)).toHaveLength(10);
    await until(() => [...vs.values()].reduce((n, v) => n + v.offers.length, 0) === 10, 5000, '10 offers delivered');
    const one = await host('GET', `/campaigns/${c.id}`);
    expect(one.body).toMatchObject({ issued: 10, skipped: { quota: 120, alreadyHas: 50, capped: 0, budget: 0 } });
    await until(async () => (await host('GET', `/campaigns/${c.id}`)).body.stats.delivered === 10, 5000, 'delivered = 10');
  });

  it('a budget holds under 20 concurrent purchases that each trigger the campaign', async () => {
    const c = await create({
      name: 'Next order',
      trigger: { type: 'purchase' },
      offer: { title: '¥10 off your next order', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 3600 },
      limits: { budget: 4500 },
    });
    const results = await Promise.all(range(20, 'b').map((v, i) => buy(`ob-${i}`, v, 5000)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const rows = await offerRows(c.id);
    expect(rows).toHaveLength(4);
    expect(rows.reduce((n, r) => n + r.value, 0)).toBe(4000);
    const one = await host('GET', `/campaigns/${c.id}`);
    expect(one.body).toMatchObject({ issued: 4, committed: 4000, budgetLeft: 500, skipped: { budget: 16 } });
  });

  it('a percent budget counts maxDiscount per offer, and host sends race one another safely', async () => {
    await viewers(range(12, 'p'));
    const c = await create(manual({
      offer: { title: '20% off (up to ¥50)', discount: { kind: 'percent', value: 20 }, maxDiscount: 5000, ttlSeconds: 600 },
      limits: { budget: 26_000, perViewer: 1 },
    }));
    const results = await Promise.all([
      host('POST', `/campaigns/${c.id}/send`),
      host('POST', `/campaigns/${c.id}/send`),
      host('POST', `/campaigns/${c.id}/send`),
    ]);
    expect(results.reduce((n, r) => n + r.body.sent, 0)).toBe(5);
    const one = await host('GET', `/campaigns/${c.id}`);
    expect(one.body).toMatchObject({ issued: 5, committed: 25_000, budgetLeft: 1000 });
  });

  it('the frequency cap holds when triggers, REST sends and host pushes reach the same viewers at once', async () => {
    const ids = range(15, 'mx');
    const vs = await viewers(ids);
    await create({ name: 'Ten seconds in', trigger: { type: 'watch_milestone', watchSeconds: 10 }, offer: { title: 'W', discount: { kind: 'amount', value: 100 }, ttlSeconds: 600 } });
    const m = await create(manual());
    const hostSock = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(hostSock);
    const push = { tier: 'potential', offer: { title: 'Push', discount: { kind: 'percent', value: 5 }, ttlSeconds: 60 } };
    clock.advance(10_000);
    const results = await Promise.all<any>([
      ...ids.map((id) => vs.get(id)!.socket.emitWithAck('track', [{ id: eid('w'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: 10_000 } }])),
      host('POST', `/campaigns/${m.id}/send`),
      hostSock.emitWithAck('push', push),
      host('POST', `/campaigns/${m.id}/send`),
      hostSock.emitWithAck('push', push),
    ]);
    const perViewer = await withSql(srv, (q) => q.all<{ n: number }>('SELECT viewer_id, COUNT(*) AS n FROM offers WHERE stream_id = ? GROUP BY viewer_id', stream.id));
    expect(perViewer).toHaveLength(15);
    expect(perViewer.every((r) => r.n === 1)).toBe(true);
    const sent = results.slice(15).reduce((n, r) => n + (r.body ? r.body.sent : r.sent), 0);
    expect(sent).toBeLessThanOrEqual(15);
    await until(() => ids.every((id) => vs.get(id)!.offers.length === 1), 5000, 'one offer each');
  });

  it('perViewer 2: each viewer gets at most two offers of the campaign', async () => {
    const vs = await viewers(['pv1', 'pv2']);
    const c = await create(manual({ limits: { perViewer: 2 } }));
    const sends = [];
    for (let i = 0; i < 3; i++) {
      sends.push((await host('POST', `/campaigns/${c.id}/send`)).body);
      clock.advance(121_000); // past the frequency cap's interval
    }
    expect(sends.map((s) => [s.sent, s.skipped.alreadyHas])).toEqual([[2, 0], [2, 0], [0, 2]]);
    await until(() => vs.get('pv1')!.offers.length === 2 && vs.get('pv2')!.offers.length === 2, 5000, 'two each');
    expect(new Set(vs.get('pv1')!.offers.map((o) => o.code)).size).toBe(2);
  });

  it('the frequency cap: one offer per 2 minutes and 5 per stream across campaigns; the host push counts them as skipped', async () => {
    const vs = await viewers(['fc']);
    const camps = await Promise.all(range(7, 'n').map((n) => create(manual({ name: n }))));
    expect((await host('POST', `/campaigns/${camps[0].id}/send`)).body.sent).toBe(1);
    clock.advance(60_000);
    expect((await host('POST', `/campaigns/${camps[1].id}/send`)).body).toMatchObject({ sent: 0, skipped: { capped: 1 } });
    const hostSock = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(hostSock);
    const push = { tier: 'potential', offer: { title: 'Push', discount: { kind: 'percent', value: 5 }, ttlSeconds: 60 } };
    expect(await hostSock.emitWithAck('push', push)).toEqual({ sent: 0, held: 0, skipped: 1 });
    clock.advance(60_000);
    expect((await host('POST', `/campaigns/${camps[1].id}/send`)).body.sent).toBe(1);
    for (const c of camps.slice(2, 5)) {
      clock.advance(120_000);
      expect((await host('POST', `/campaigns/${c.id}/send`)).body.sent).toBe(1);
    }
    clock.advance(120_000);
    expect((await host('POST', `/campaigns/${camps[5].id}/send`)).body).toMatchObject({ sent: 0, skipped: { capped: 1 } }); // 5 per stream
    expect(await hostSock.emitWithAck('push', push)).toEqual({ sent: 0, held: 0, skipped: 1 });
    await until(() => vs.get('fc')!.offers.length === 5, 5000, 'five offers');
  });
});

describe('triggers fire once when they should, and not when they should not', () => {
  it('tier_entered: on a move up into the tier, once', async () => {
    const c = await create({ name: 'Welcome to mid', trigger: { type: 'tier_entered', tier: 'mid' }, offer: { title: 'Mid perk', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 } });
    const vs = await viewers(['te']);
    const mine = () => vs.get('te')!.offers.filter((o) => o.campaign === c.id);
    await buy('te-1', 'te', 1000); // potential → mid
    await until(() => mine().length === 1, 5000, 'tier_entered offer');
    expect(vs.get('te')!.offers.map((o) => o.campaign).sort()).toEqual([c.id, 'default:deal'].sort());
    await buy('te-2', 'te', 1000); // still mid: no new entry
    await sleep(200);
    expect(mine()).toHaveLength(1);
    await buy('te-3', 'te', 200_000); // mid → high: not this campaign's tier
    await until(() => vs.get('te')!.offers.some((o) => o.campaign === 'default:vip'), 5000, 'vip');
    expect(mine()).toHaveLength(1);
  });

  it('watch_milestone: at N seconds of this stream, not before, not after buying here', async () => {
    const c = await create({ name: 'Stay', trigger: { type: 'watch_milestone', watchSeconds: 60 }, offer: { title: 'Thanks for staying', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 } });
    const vs = await viewers(['wm', 'wb']);
    const watch = async (id: string, n: number) => {
      for (let i = 0; i < n; i++) {
        clock.advance(10_000);
        await vs.get(id)!.socket.emitWithAck('track', [{ id: eid('w'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: 10_000 } }]);
      }
    };
    await buy('wb-1', 'wb', 1000); // wb bought in this stream
    await watch('wm', 5);
    await sleep(200);
    expect(vs.get('wm')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(0);
    await watch('wm', 1);
    await until(() => vs.get('wm')!.offers.some((o) => o.campaign === c.id), 5000, 'milestone offer');
    await watch('wm', 3);
    await watch('wb', 8);
    await sleep(200);
    expect(vs.get('wm')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(1);
    expect(vs.get('wb')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(0);
  });

  it('cart_abandoned: after N seconds without a purchase, once; a purchase closes the cart', async () => {
    const c = await create({ name: 'Cart', trigger: { type: 'cart_abandoned', afterSeconds: 600 }, offer: { title: 'Still thinking?', discount: { kind: 'amount', value: 800 }, ttlSeconds: 600 } });
    const vs = await viewers(['ca', 'cb', 'cc']);
    const cart = (id: string) => vs.get(id)!.socket.emitWithAck('track', [{ id: eid('c'), type: 'add_to_cart', ts: Date.now(), data: { sku: 'TEA-01' } }]);
    await Promise.all([cart('ca'), cart('cb'), cart('cc')]);
    await buy('cb-1', 'cb', 12_800); // cb bought: a verified purchase
    await vs.get('cc')!.socket.emitWithAck('track', [{ id: eid('p'), type: 'purchase', ts: Date.now(), data: { orderId: 'x', amount: 1, currency: 'CNY' } }]);
    clock.advance(599_000);
    await srv.app.engine.tick();
    await roundTrip(vs, ['ca']);
    expect(vs.get('ca')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(0);
    clock.advance(1000);
    await srv.app.engine.tick();
    await until(() => vs.get('ca')!.offers.some((o) => o.campaign === c.id), 5000, 'cart offer');
    clock.advance(600_000);
    await srv.app.engine.tick();
    await roundTrip(vs, ['ca', 'cb', 'cc']);
    expect(vs.get('ca')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(1);
    expect(vs.get('cb')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(0);
    expect(vs.get('cc')!.offers.filter((o) => o.campaign === c.id)).toHaveLength(0);
  });

  it('purchase with SKUs: only orders holding one of them, once per viewer', async () => {
    const c = await create({ name: 'Cross-sell', trigger: { type: 'purchase', skus: ['TEA-01'] }, offer: { title: 'A cup for your tea', discount: { kind: 'amount', value: 500 }, skus: ['CUP-02'], ttlSeconds: 600 } });
    const vs = await viewers(['pu']);
    const mine = () => vs.get('pu')!.offers.filter((o) => o.campaign === c.id);
    await buy('pu-1', 'pu', 3000, { items: [{ sku: 'CAKE-9' }] });
    await sleep(200);
    expect(mine()).toHaveLength(0);
    await buy('pu-2', 'pu', 3000, { items: [{ sku: 'CAKE-9' }, { sku: 'TEA-01', quantity: 2 }] });
    await until(() => mine().length === 1, 5000, 'cross-sell offer');
    expect(mine()[0]).toMatchObject({ title: 'A cup for your tea', skus: ['CUP-02'] });
    await buy('pu-3', 'pu', 3000, { items: [{ sku: 'TEA-01' }] });
    await sleep(200);
    expect(mine()).toHaveLength(1);
  });

  it('the default win-back reaches an at-risk viewer (2 abandoned checkouts) after a minute of watching, not others', async () => {
    const vs = await viewers(['wr', 'wn']);
    const track = (id: string, type: string, data: Record<string, unknown>) =>
      vs.get(id)!.socket.emitWithAck('track', [{ id: eid(type), type, ts: Date.now(), data }]);
    await track('wr', 'checkout', { sku: 'TEA-01' });
    clock.advance(60_000);
    await track('wr', 'checkout', { sku: 'TEA-01' });
    clock.advance(2 * 3_600_000); // both checkouts abandoned (no purchase within an hour)
    for (let i = 0; i < 6; i++) {
      clock.advance(10_000);
      for (const id of ['wr', 'wn']) await track(id, 'watch', { playing: true, engagedMs: 10_000 });
    }
    await until(() => vs.get('wr')!.offers.some((o) => o.campaign === 'default:win-back'), 5000, 'win-back');
    expect(vs.get('wr')!.offers[0]).toMatchObject({ title: 'Welcome back: ¥25 off', discount: { kind: 'amount', value: 2500 }, minSpend: 14_900 });
    await sleep(200);
    expect(vs.get('wn')!.offers).toHaveLength(0);
  });

  it('manual campaigns never fire by themselves; paused campaigns do not fire', async () => {
    const m = await create(manual());
    const t = await create({ name: 'Paused', trigger: { type: 'purchase' }, offer: { title: 'p', discount: { kind: 'amount', value: 100 }, ttlSeconds: 600 } });
    await host('PATCH', `/campaigns/${t.id}`, { status: 'paused' });
    const vs = await viewers(['mn']);
    await buy('mn-1', 'mn', 1000);
    await until(() => vs.get('mn')!.offers.length === 1, 5000, 'the default deal');
    await roundTrip(vs, ['mn']);
    expect(vs.get('mn')!.offers.map((o) => o.campaign)).toEqual(['default:deal']);
    expect(await offerRows(m.id)).toHaveLength(0);
    expect(await offerRows(t.id)).toHaveLength(0);
  });
});

describe('delivery', () => {
  it('an offer triggered while its viewer is offline arrives on reconnect, never after expiry', async () => {
    const c = await create({ name: 'Next', trigger: { type: 'purchase' }, offer: { title: 'Come back', discount: { kind: 'amount', value: 500 }, ttlSeconds: 120 } });
    await buy('off-1', 'olga', 1000); // olga is offline: the default deal and this campaign's offer wait
    await buy('off-2', 'oleg', 1000);
    const [olga] = [...(await viewers(['olga'])).values()];
    await until(() => olga!.offers.length === 2, 5000, 'pending offers');
    expect(olga!.offers.map((o) => o.campaign).sort()).toEqual([c.id, 'default:deal'].sort());
    clock.advance(121_000); // this campaign's offer (2 min) expired; the deal (15 min) did not
    const [oleg] = [...(await viewers(['oleg'])).values()];
    await until(() => oleg!.offers.length === 1, 5000, 'the deal');
    await sleep(300);
    expect(oleg!.offers.map((o) => o.campaign)).toEqual(['default:deal']);
  });

  it('delivered, seen, clicked and redeemed are counted; 20 parallel redeems give one 200', async () => {
    const c = await create(manual());
    const vs = await viewers(['fu']);
    expect((await host('POST', `/campaigns/${c.id}/send`)).body.sent).toBe(1);
    await until(() => vs.get('fu')!.offers.length === 1, 5000, 'offer');
    const o = vs.get('fu')!.offers[0];
    await vs.get('fu')!.socket.emitWithAck('track', [
      { id: eid('s'), type: 'offer_seen', ts: Date.now(), data: { offerId: o.id } },
      { id: eid('k'), type: 'offer_click', ts: Date.now(), data: { offerId: o.id } },
    ]);
    const results = await Promise.all(range(20, 'race-').map((orderId) => srv.api('POST', `/v1/coupons/${o.code}/redeem`, { orderId, viewerId: 'fu' }, stream.ingestKey)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    await until(async () => (await host('GET', `/campaigns/${c.id}`)).body.stats.delivered === 1, 5000, 'delivered');
    expect((await host('GET', `/campaigns/${c.id}`)).body.stats).toMatchObject({ issued: 1, delivered: 1, seen: 1, clicked: 1, redeemed: 1 });
  });
});

describe('restart', () => {
  it('campaigns, their edits and their counters survive a restart: the quota goes on where it was', async () => {
    await viewers(['r1', 'r2']);
    const c = await create(manual({ limits: { maxIssued: 3 } }));
    await host('PATCH', '/campaigns/default:vip', { status: 'paused' });
    expect((await host('POST', `/campaigns/${c.id}/send`)).body.sent).toBe(2);
    closeAllClients();
    await srv.stop();
    srv = await startServer({ clock, db: srv.db });
    await viewers(['r3', 'r4']);
    expect((await host('POST', `/campaigns/${c.id}/send`)).body).toMatchObject({ sent: 1, skipped: { quota: 1 } });
    expect((await host('GET', '/campaigns/default:vip')).body.status).toBe('paused');
    expect((await host('GET', `/campaigns/${c.id}`)).body).toMatchObject({ issued: 3, stats: { issued: 3, eligible: 3 } });
  });
});

describe('holdout and uplift', () => {
  it('splits by hash, holds the control arm back, and measures uplift on a scripted scenario', async () => {
    const c = await create(manual({ name: 'Measured', holdoutPercent: 34, offer: { title: '¥15 off', discount: { kind: 'amount', value: 1500 }, ttlSeconds: 7200 } }));
    // pick 20 treatment and 10 control viewers by the campaign's own hash
    const treated: string[] = [];
    const control: string[] = [];
    for (let i = 0; treated.length < 20 || control.length < 10; i++) {
      const id = `h${i}`;
      const arm = armOf(stream.id, c.id, id, 34);
      if (arm === 'treatment' && treated.length < 20) treated.push(id);
      if (arm === 'control' && control.length < 10) control.push(id);
    }
    const vs = await viewers([...treated, ...control]);
    expect((await host('POST', `/campaigns/${c.id}/send`)).body).toEqual({ sent: 20, held: 10, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } });
    await until(() => treated.every((id) => vs.get(id)!.offers.length === 1), 5000, 'treated offers');
    await roundTrip(vs, control);
    expect(control.every((id) => vs.get(id)!.offers.length === 0)).toBe(true);
    // a second send holds the same viewers again (deterministic) and sends nothing twice
    expect((await host('POST', `/campaigns/${c.id}/send`)).body).toEqual({ sent: 0, held: 10, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 20 } });

    const start = clock();
    clock.advance(3_600_000);
    // treated: 4 buy with their code, 4 without it, within the window
    for (const id of treated.slice(0, 4)) await buy(`t-${id}`, id, 20_000, { couponCode: vs.get(id)!.offers[0].code });
    for (const id of treated.slice(4, 8)) await buy(`t-${id}`, id, 20_000);
    // control: 2 buy within the window; one reports an order placed before the campaign reached them
    for (const id of control.slice(0, 2)) await buy(`c-${id}`, id, 20_000);
    await buy(`c-${control[2]}`, control[2]!, 20_000, { at: start - 60_000 });
    // after the 24 h window: no longer the campaign's doing
    clock.advance(24 * 3_600_000);
    await buy(`late-${treated[8]}`, treated[8]!, 20_000);
    await buy(`late-${control[3]}`, control[3]!, 20_000);

    const one = await host('GET', `/campaigns/${c.id}`);
    expect(one.body.stats).toMatchObject({
      eligible: 30,
      issued: 20,
      redeemed: 4,
      control: 10,
      treatedConversion: 0.4,
      controlConversion: 0.2,
      uplift: {
        absolute: 0.2,
        ci95: [-0.128, 0.528],
        n: { treated: 20, control: 10 },
        conversions: { treated: 8, control: 2 },
        enoughData: false,
      },
    });
    // control viewers were recorded
    const arms = await withSql(srv, (q) => q.all('SELECT arm, COUNT(*) AS n FROM campaign_assignments WHERE stream_id = ? AND campaign_id = ? GROUP BY arm ORDER BY arm', stream.id, c.id));
    expect(arms).toEqual([{ arm: 'control', n: 10 }, { arm: 'treatment', n: 20 }]);
  });

  it('after the window, a purchase still converts when it carries the code or redeemed it, and only then', async () => {
    const c = await create(manual({ name: 'Codes', attributionHours: 1, offer: { title: '¥5 off', discount: { kind: 'amount', value: 500 }, ttlSeconds: 86_400 } }));
    const vs = await viewers(['k1', 'k2', 'k3', 'k4']);
    expect((await host('POST', `/campaigns/${c.id}/send`)).body.sent).toBe(4);
    await until(() => ['k1', 'k2', 'k3', 'k4'].every((id) => vs.get(id)!.offers.length === 1), 5000, 'offers');
    clock.advance(2 * 3_600_000); // past the 1 h attribution window
    const code = (id: string) => vs.get(id)!.offers[0].code;
    expect((await buy('k1-late', 'k1', 3000, { couponCode: code('k1') })).status).toBe(201); // carries the code
    expect((await buy('k2-late', 'k2', 3000)).status).toBe(201); // the merchant redeems the code for this order
    expect((await srv.api('POST', `/v1/coupons/${code('k2')}/redeem`, { orderId: 'k2-late', viewerId: 'k2' }, stream.ingestKey)).status).toBe(200);
    expect((await buy('k3-late', 'k3', 3000)).status).toBe(201); // neither: not the campaign's doing
    expect((await buy('k4-refunded', 'k4', 3000, { couponCode: code('k4') })).status).toBe(201);
    expect((await srv.api('POST', '/v1/refunds', { orderId: 'k4-refunded' }, stream.ingestKey)).status).toBe(200); // fully refunded: no conversion
    const stats = (await host('GET', `/campaigns/${c.id}`)).body.stats;
    expect(stats).toMatchObject({ eligible: 4, redeemed: 3, treatedConversion: 0.5, uplift: { conversions: { treated: 2, control: 0 } } });
    // the list computes the same numbers
    const listed = (await host('GET', '/campaigns')).body.campaigns.find((x: any) => x.id === c.id);
    expect(listed.stats).toEqual(stats);
  });
});
