/**
 * The channel overview (GET /v1/channels/:channel/overview) and its read-only key, on a real
 * server (SQLite, and PostgreSQL as integration-pg), after a scripted channel of two streams:
 *
 *   stream 1: alice buys twice (¥600 + ¥600: high), bob once (¥250: mid), carol only watches
 *             (potential); a manual campaign with a 50% holdout goes to all three; the host ends it
 *             with the three connected (peak 3)
 *   stream 2: the three come back with dave (new); bob buys ¥800 (2 orders, ¥1,050: up to high),
 *             alice's second order of stream 1 is refunded (1 order: down to mid), dave buys ¥300
 *             (mid, no earlier stream: no move); read live, then ended
 *
 * Every number is written out here, and each stream's is also the one its own report shows. Keys:
 * the admin's and the channel's read the overview; another channel's key, a stream key and the
 * channel key elsewhere get 403; unknown or no key 401; a rotated key works for its grace period,
 * then 401. Bad `limit` 400 naming it; an unknown channel 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY, closeAllClients, connectViewer, createStream, startServer, until, viewerToken, client, connect,
  type StreamKeys, type TestServer,
} from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';
import { pooledUplift } from '../../server/offers/uplift.js';
import type { Tier } from '../../server/realtime/events.js';

let srv: TestServer;
let s1: StreamKeys;
let s2: StreamKeys;
let elsewhere: StreamKeys;
let channelKey: string;
let otherChannelKey: string;
let campaignId: string;

const CHANNEL = 'tea-house';
const overview = (key: string | undefined, query = '', channel = CHANNEL) => srv.api('GET', `/v1/channels/${channel}/overview${query}`, undefined, key);
const rotate = (channel: string, body?: unknown, key: string | undefined = ADMIN_KEY) => srv.api('POST', `/v1/channels/${channel}/keys/rotate`, body, key);
const buy = (s: StreamKeys, orderId: string, viewerId: string, amount: number) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY' }, s.ingestKey);

/** the viewers connected, verified by a token from the merchant's backend */
async function watch(s: StreamKeys, ...viewers: string[]) {
  for (const v of viewers) await connectViewer(srv, { streamId: s.id, viewerId: 'x', token: await viewerToken(srv, s.ingestKey, v) });
}

/** waits until the store holds these tiers (a tier is written with the next group commit) */
async function tiersAre(want: Record<string, Tier>) {
  await until(
    async () => (await Promise.all(Object.entries(want).map(async ([v, t]) => (await srv.app.store.getViewer(CHANNEL, v))?.tier === t))).every(Boolean),
    10_000,
    `tiers ${JSON.stringify(want)}`,
  );
}

beforeAll(async () => {
  srv = await startServer();
  s1 = await createStream(srv, { title: 'Spring tea, part 1', channel: CHANNEL, id: 'tea-1', currency: 'CNY' });
  elsewhere = await createStream(srv, { title: 'Elsewhere', channel: 'other-shop' });
  channelKey = (await rotate(CHANNEL)).body.channelKey;
  otherChannelKey = (await rotate('other-shop')).body.channelKey;

  await watch(s1, 'alice', 'bob', 'carol');
  const created = await srv.api('POST', `/v1/streams/${s1.id}/campaigns`, {
    name: 'Half held back', trigger: { type: 'manual' }, holdoutPercent: 50,
    offer: { title: '¥5 off', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 },
  }, s1.hostKey);
  expect(created.status).toBe(201);
  campaignId = created.body.id;
  expect((await srv.api('POST', `/v1/streams/${s1.id}/campaigns/${campaignId}/send`, undefined, s1.hostKey)).status).toBe(200);
  expect((await buy(s1, 't1-a1', 'alice', 60_000)).status).toBe(201);
  expect((await buy(s1, 't1-a2', 'alice', 60_000)).status).toBe(201);
  expect((await buy(s1, 't1-b1', 'bob', 25_000)).status).toBe(201);
  await tiersAre({ alice: 'high', bob: 'mid', carol: 'potential' });
  const host = client(srv, '/host', { streamId: s1.id, hostKey: s1.hostKey });
  await connect(host); // the host's dashboard samples the audience: 3 connected
  expect((await srv.api('POST', `/v1/streams/${s1.id}/end`, undefined, s1.hostKey)).body.ended).toBe(true);
  closeAllClients();

  s2 = await createStream(srv, { title: 'Spring tea, part 2', channel: CHANNEL, id: 'tea-2' });
  await watch(s2, 'alice', 'bob', 'carol', 'dave');
  expect((await buy(s2, 't2-b1', 'bob', 80_000)).status).toBe(201);
  expect((await srv.api('POST', '/v1/refunds', { orderId: 't1-a2' }, s2.ingestKey)).status).toBe(200);
  expect((await buy(s2, 't2-d1', 'dave', 30_000)).status).toBe(201);
  await tiersAre({ alice: 'mid', bob: 'high', carol: 'potential', dave: 'mid' });
}, 60_000);

afterAll(async () => {
  closeAllClients();
  await srv?.close();
});

/** what the stream's own report says, in the overview's terms */
async function fromReport(s: StreamKeys) {
  const r = (await srv.api('GET', `/v1/streams/${s.id}/report`, undefined, s.hostKey)).body;
  return {
    audience: r.audience, gmv: r.gmv, orders: r.orders, gpm: r.kpis.gpm, uvValue: r.kpis.uvValue, conversion: r.kpis.conversion,
    returningShare: r.kpis.viewers ? Math.round((r.kpis.returningViewers / r.kpis.viewers) * 10_000) / 10_000 : 0,
    offers: { issued: r.offers.issued, redeemed: r.offers.redeemed },
  };
}

describe('the channel overview', () => {
  it('compares the streams, newest first, with the live one as it is now', async () => {
    const r = await overview(channelKey);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ channel: CHANNEL, currency: 'CNY' });
    const [live, first] = r.body.streams;
    expect(r.body.streams.map((s: { id: string }) => s.id)).toEqual(['tea-2', 'tea-1']);

    // stream 2, live: ¥800 + ¥300 from 4 viewers, 2 buyers, 3 of them known before it began
    expect(live).toMatchObject({
      id: 'tea-2', title: 'Spring tea, part 2', endedAt: null, audience: 4, peak: 4, gmv: 110_000, orders: 2,
      gpm: 27_500_000, uvValue: 27_500, conversion: 0.5, returningShare: 0.75,
      uplift: { campaigns: 0, absolute: null, ci95: null, enoughData: false },
    });
    expect(live.lengthMs).toBeGreaterThanOrEqual(0);
    expect(live.lengthMs).toBeLessThan(60_000);
    // stream 1, ended: ¥1,450 less the refunded ¥600 (a late refund counts where the order was), 3 viewers, 2 buyers, peak 3
    expect(first).toMatchObject({
      id: 'tea-1', audience: 3, peak: 3, gmv: 85_000, orders: 3, gpm: 28_333_333, uvValue: 28_333, conversion: 0.6667, returningShare: 0,
    });
    expect(first.endedAt).toBeGreaterThanOrEqual(first.startedAt);
    expect(first.lengthMs).toBe(first.endedAt - first.startedAt);
    // each stream's numbers are its report's
    expect(live).toMatchObject(await fromReport(s2));
    expect(first).toMatchObject(await fromReport(s1));
    expect(first.offers.issued).toBeGreaterThan(0);

    // the holdout campaign's arms, pooled: the same arms as its own stats count
    const stats = (await srv.api('GET', `/v1/streams/${s1.id}/campaigns/${campaignId}`, undefined, s1.hostKey)).body.stats;
    expect(stats.eligible).toBe(3);
    const arms = { treated: { n: stats.uplift.n.treated, conversions: stats.uplift.conversions.treated }, control: { n: stats.uplift.n.control, conversions: stats.uplift.conversions.control } };
    expect(first.uplift).toEqual(pooledUplift([arms]));

    // the viewers by tier: now, at stream 1's end, and stream 2's viewers now against their tier then
    expect(r.body.tiers.now).toEqual({ high: 1, mid: 2, potential: 1 });
    expect(r.body.tiers.perStream).toEqual([
      { streamId: 'tea-2', asOf: 'now', high: 1, mid: 2, potential: 1, movedUp: 1, movedDown: 1 },
      { streamId: 'tea-1', asOf: 'end', high: 1, mid: 1, potential: 1, movedUp: 0, movedDown: 0 },
    ]);
  });

  it('keeps what the end of a stream recorded: tiers at the end, and the peak', async () => {
    const host = client(srv, '/host', { streamId: s2.id, hostKey: s2.hostKey });
    await connect(host);
    expect((await srv.api('POST', `/v1/streams/${s2.id}/end`, undefined, s2.hostKey)).body.ended).toBe(true);
    closeAllClients();
    // alice buys again after the end: her tier moves, the stream's recorded tiers do not
    const later = await createStream(srv, { title: 'Later', channel: CHANNEL, id: 'tea-3' });
    expect((await buy(later, 't3-a1', 'alice', 90_000)).status).toBe(201);
    await tiersAre({ alice: 'high' });
    const r = await overview(ADMIN_KEY, '?limit=3');
    expect(r.status).toBe(200);
    expect(r.body.streams.map((s: { id: string }) => s.id)).toEqual(['tea-3', 'tea-2', 'tea-1']);
    expect(r.body.streams[1]).toMatchObject({ id: 'tea-2', peak: 4, audience: 4 });
    expect(r.body.streams[1].endedAt).not.toBeNull();
    expect(r.body.tiers.perStream).toEqual([
      { streamId: 'tea-3', asOf: 'now', high: 0, mid: 0, potential: 0, movedUp: 0, movedDown: 0 },
      { streamId: 'tea-2', asOf: 'end', high: 1, mid: 2, potential: 1, movedUp: 1, movedDown: 1 },
      { streamId: 'tea-1', asOf: 'end', high: 1, mid: 1, potential: 1, movedUp: 0, movedDown: 0 },
    ]);
    expect(r.body.tiers.now).toEqual({ high: 2, mid: 1, potential: 1 });
    // `limit` takes the newest
    expect((await overview(ADMIN_KEY, '?limit=1')).body.streams.map((s: { id: string }) => s.id)).toEqual(['tea-3']);
    expect((await overview(ADMIN_KEY, '?limit=1')).body.tiers.perStream).toHaveLength(1);
  });

  it('refuses a bad limit, naming it, and answers 404 for an unknown channel', async () => {
    for (const q of ['?limit=0', '?limit=101', '?limit=abc', '?limit=-1', '?limit=1.5']) {
      const r = await overview(ADMIN_KEY, q);
      expect(r.status, q).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'bad_request', message: expect.stringContaining('querystring.limit') });
    }
    expect((await overview(ADMIN_KEY, '?limit=100')).status).toBe(200);
    expect((await overview(ADMIN_KEY, '', 'no-such-channel')).status).toBe(404);
    expect((await overview(ADMIN_KEY, '', 'bad channel!')).status).toBe(400);
    // a channel key does not learn whether another channel exists
    expect((await overview(channelKey, '', 'no-such-channel')).status).toBe(403);
  });
});

describe("the channel's read-only key", () => {
  it('reads its own channel overview only: 403 on another channel and every other route, 401 for unknown keys', async () => {
    expect((await overview(ADMIN_KEY)).status).toBe(200);
    expect((await overview(channelKey)).status).toBe(200);
    const refused = [
      await overview(otherChannelKey),
      await overview(s1.hostKey),
      await overview(elsewhere.ingestKey),
      await srv.api('GET', `/v1/channels/${CHANNEL}/tier-rules`, undefined, channelKey),
      await rotate(CHANNEL, {}, channelKey),
      await srv.api('GET', `/v1/streams/${s1.id}/summary`, undefined, channelKey),
      await srv.api('GET', `/v1/streams/${s1.id}/report`, undefined, channelKey),
      await srv.api('POST', '/v1/viewer-tokens', { viewerId: 'vera' }, channelKey),
    ];
    for (const r of refused) expect(r).toMatchObject({ status: 403, body: { statusCode: 403, error: 'forbidden' } });
    for (const key of [undefined, 'lt_channel_not-a-key', channelKey.slice(0, -1) + (channelKey.endsWith('A') ? 'B' : 'A'), 'wrong']) {
      expect(await overview(key)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    }
    // host and ingest keys still get 401 on admin routes, as before
    expect((await rotate(CHANNEL, {}, s1.hostKey)).status).toBe(401);
  });

  it('rotates: shown once, stored as a digest; the old key works for graceSeconds, then 401', async () => {
    const before = channelKey;
    const r = await rotate(CHANNEL, { graceSeconds: 1 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ channel: CHANNEL, channelKey: expect.stringMatching(/^lt_channel_[A-Za-z0-9_-]{32}$/), graceSeconds: 1 });
    expect(r.body.previousValidUntil).toBeGreaterThan(Date.now());
    channelKey = r.body.channelKey;
    expect((await overview(before)).status).toBe(200);
    expect((await overview(channelKey)).status).toBe(200);
    const stored = await withSql(srv, (q) => q.all('SELECT * FROM channels'));
    expect(JSON.stringify(stored)).not.toContain(channelKey);
    expect(JSON.stringify(stored)).not.toContain(before);
    await until(() => Date.now() > r.body.previousValidUntil + 20, 3000, 'the grace period to end');
    expect((await overview(before)).status).toBe(401);
    expect((await overview(channelKey)).status).toBe(200);

    // no grace (no body at all is the same as {}): the old key stops at once
    const bare = await fetch(`${srv.url}/v1/channels/${CHANNEL}/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(bare.status).toBe(200);
    const next = (await bare.json()) as { channelKey: string; graceSeconds: number; previousValidUntil: number | null };
    expect(next).toMatchObject({ graceSeconds: 0, previousValidUntil: null });
    expect((await overview(channelKey)).status).toBe(401);
    expect((await overview(next.channelKey)).status).toBe(200);
    channelKey = next.channelKey;
  });

  it('refuses bad rotations: unknown channel 404, a bad body 400 naming the field, no admin key 401', async () => {
    expect((await rotate('no-such-channel', {})).status).toBe(404);
    for (const body of [{ graceSeconds: -1 }, { graceSeconds: 604_801 }, { graceSeconds: '10' }, { graceSeconds: 1.5 }, { other: 1 }]) {
      const r = await rotate(CHANNEL, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.message).toMatch(/graceSeconds|additional|other/);
    }
    expect((await srv.api('POST', `/v1/channels/${CHANNEL}/keys/rotate`, {})).status).toBe(401);
    expect((await rotate(CHANNEL, {}, 'wrong')).status).toBe(401);
    // none of that changed the key
    expect((await overview(channelKey)).status).toBe(200);
  });
});
