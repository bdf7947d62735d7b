/**
 * The PostgreSQL store against a real PostgreSQL (LIVETIER_TEST_PG, by default the local server
 * with trust auth). Each run creates its own databases and drops them after. The properties that
 * need several servers (quota, budget, single use, dedup) are checked with several store
 * instances, each with its own pool, racing on one database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createPostgresStore, MIGRATIONS, partitionName } from './index.js';
import { DAY_MS, dayStart } from './partitions.js';
import { describeTarget } from './pool.js';
import { StoreUnavailableError, type IngestJob, type IssueRequest, type Store } from '../types.js';
import type { ValidEvent } from '../../ingest/schema.js';
import type { CampaignDoc } from '../../offers/campaign.js';
import { committedValue } from '../../offers/campaign.js';
import { decide, DEFAULT_CAP } from '../../offers/rules.js';
import { reason, type Explain } from '../../tiering/explain.js';

const why = (text: string): Explain[] => [reason('text', { text })];

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_URL = process.env.LIVETIER_TEST_PG ?? DEFAULT_URL;

async function reachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

const available = await reachable();
if (!available) {
  console.log(`PostgreSQL store tests skipped: no PostgreSQL at ${describeTarget(ADMIN_URL)}; run one there, or point LIVETIER_TEST_PG at a server (default ${DEFAULT_URL})`);
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** a new empty database; returns its URL */
async function createDatabase(): Promise<string> {
  const name = `lt_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  created.push(name);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
const created: string[] = [];

const NOW = Date.now();
const CHANNEL = 'shop';

let n = 0;
const uid = (p: string) => `${p}${++n}`;
const ev = (id: string, type: ValidEvent['type'], data: Record<string, any> = {}): ValidEvent => ({ id, type, ts: NOW, data });

const join = (streamId: string, viewerId: string, now = NOW, verified = false): IngestJob =>
  ({ kind: 'join', streamId, channel: CHANNEL, viewerId, verified, now });
const track = (streamId: string, viewerId: string, events: ValidEvent[], now = NOW, lastCreditAt = now): IngestJob =>
  ({ kind: 'track', streamId, channel: CHANNEL, viewerId, events, now, lastCreditAt });

async function newStream(store: Store): Promise<string> {
  const id = uid('stream-');
  const ok = await store.createStream(
    { id, channel: CHANNEL, title: 'Live', allowedOrigins: ['https://shop.example'], hostKeyHash: uid('h-'), ingestKeyHash: uid('i-'), createdAt: NOW },
    'secret',
  );
  expect(ok).toBe(true);
  return id;
}

const manualDoc = (limits: CampaignDoc['limits'] = {}, amount = 100): CampaignDoc => ({
  name: 'Flash sale',
  trigger: { type: 'manual' },
  offer: { title: '¥1 off', discount: { kind: 'amount', value: amount }, ttlSeconds: 600 },
  limits,
});

/** an issue request the way offers/service.ts builds one: the pure rules decide, the store commits */
function issueRequest(streamId: string, campaignId: string, viewers: string[], opts: { trustColumnsOnly?: boolean } = {}): IssueRequest {
  return {
    streamId,
    channel: CHANNEL,
    campaignId,
    now: NOW,
    viewers: viewers.map((viewerId) => ({ viewerId, currency: 'CNY' })),
    decide: (c, history) =>
      c.status !== 'active'
        ? null
        : opts.trustColumnsOnly
          ? { kind: 'issue', value: committedValue(c.doc.offer) } // a caller that checks nothing: the columns must hold
          : decide(c.doc, c, history, 'treatment', NOW, DEFAULT_CAP),
    offer: (c, viewerId, currency, value) => ({
      id: randomUUID(), channel: CHANNEL, streamId, viewerId, campaign: c.id, title: c.doc.offer.title, description: null,
      discountKind: c.doc.offer.discount.kind, discountValue: c.doc.offer.discount.value, minSpend: null, currency,
      createdAt: NOW, expiresAt: NOW + c.doc.offer.ttlSeconds * 1000, value, maxDiscount: null, skus: null,
    }),
  };
}

describe.skipIf(!available)('PostgreSQL store', () => {
  let url: string;
  let store: Store;
  /** more servers on the same database, each with its own pool */
  let peers: Store[];

  beforeAll(async () => {
    url = await createDatabase();
    store = await createPostgresStore(url);
    peers = await Promise.all([createPostgresStore(url, { poolSize: 4 }), createPostgresStore(url, { poolSize: 4 })]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([store, ...(peers ?? [])].map((s) => s?.close()));
    await admin(async (c) => {
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  }, 30_000);

  const sql = async (text: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };

  describe('migrations', () => {
    it('apply once when two servers start at once, and a restart applies nothing', async () => {
      const fresh = await createDatabase();
      const [a, b] = await Promise.all([createPostgresStore(fresh, { poolSize: 2 }), createPostgresStore(fresh, { poolSize: 2 })]);
      const c = new pg.Client({ connectionString: fresh });
      await c.connect();
      try {
        const first = (await c.query('SELECT version, applied_at FROM schema_migrations ORDER BY version')).rows;
        expect(first.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
        const again = await createPostgresStore(fresh, { poolSize: 1 });
        expect((await c.query('SELECT version, applied_at FROM schema_migrations ORDER BY version')).rows).toEqual(first);
        // today's and tomorrow's partitions exist, each with its own dedup key
        const today = dayStart(Date.now());
        for (const day of [today, today + DAY_MS]) {
          const r = await c.query('SELECT to_regclass($1) AS t, to_regclass($2) AS k', [partitionName(day), `${partitionName(day)}_key`]);
          expect(r.rows[0]).toEqual({ t: partitionName(day), k: `${partitionName(day)}_key` });
        }
        await Promise.all([a.close(), b.close(), again.close()]);
      } finally {
        await c.end();
      }
    }, 20_000);

    it('names day partitions by their UTC day', () => {
      expect(partitionName(Date.UTC(2026, 11, 2))).toBe('events_20261202');
    });
  });

  describe('ingest', () => {
    it('a join reports the first visit to the stream and the watch time credited so far', async () => {
      const s = await newStream(store);
      const [first] = await store.ingest([join(s, 'v1')]);
      expect(first).toMatchObject({ firstTime: true, streamWatchMs: 0 });
      await store.ingest([track(s, 'v1', [ev('w1', 'watch', { playing: true, engagedMs: 10_000 })], NOW + 10_000, NOW)]);
      const [second] = await store.ingest([join(s, 'v1', NOW + 20_000, true)]);
      expect(second).toMatchObject({ firstTime: false, streamWatchMs: 10_000 });
      const v = await store.getViewer(CHANNEL, 'v1');
      expect(v).toMatchObject({ verified: true, watchMs: 10_000, firstSeenAt: NOW, lastSeenAt: NOW + 20_000 });
    });

    it('credits watch time on the server clock, and a resent heartbeat earns nothing', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'w')]);
      // claims 60 s, but only 12 s passed since the last credit
      const [r] = await store.ingest([track(s, 'w', [ev('hb1', 'watch', { playing: true, engagedMs: 60_000 })], NOW + 12_000, NOW)]);
      expect(r).toMatchObject({ watchCredited: 12_000, lastCreditAt: NOW + 12_000, duplicates: 0 });
      const [again] = await store.ingest([track(s, 'w', [ev('hb1', 'watch', { playing: true, engagedMs: 60_000 })], NOW + 24_000, NOW + 12_000)]);
      expect(again).toMatchObject({ watchCredited: 0, lastCreditAt: NOW + 12_000, duplicates: 1, accepted: [] });
      expect((await store.getViewerStream(s, 'w'))?.watchMs).toBe(12_000);
      expect((await store.getViewer(CHANNEL, 'w'))?.watchMs).toBe(12_000);
      const [row] = await sql('SELECT credit_ms::int AS credit FROM events WHERE stream_id = $1 AND id = $2', [s, 'hb1']);
      expect(row.credit).toBe(12_000);
    });

    it('dedups within a batch and across batches, and a duplicate moves no counter', async () => {
      const s = await newStream(store);
      const [, t] = await store.ingest([
        join(s, 'd'),
        track(s, 'd', [ev('c1', 'comment', { text: 'hi' }), ev('c1', 'comment', { text: 'hi' }), ev('p1', 'product_view', { sku: 'A' })]),
      ]);
      expect(t!.accepted.map((e) => e.id)).toEqual(['c1', 'p1']);
      expect(t!.duplicates).toBe(1);
      const [again] = await store.ingest([track(s, 'd', [ev('c1', 'comment', { text: 'hi' }), ev('c2', 'comment', { text: 'yo' })], NOW + 1)]);
      expect(again!.accepted.map((e) => e.id)).toEqual(['c2']);
      expect(again!.duplicates).toBe(1);
      expect(await store.getViewerStream(s, 'd')).toMatchObject({ comments: 2, productViews: 1 });
      expect(await store.getViewer(CHANNEL, 'd')).toMatchObject({ comments: 2, productViews: 1 });
      expect(await store.countEvents(s)).toBe(3);
      // another viewer's event with the same id is not a duplicate of d's
      const [other] = await store.ingest([join(s, 'e'), track(s, 'e', [ev('c1', 'comment', { text: 'me too' })])]).then((r) => r.slice(1));
      expect(other!.accepted).toHaveLength(1);
    });

    it('applies jobs in order when one viewer appears several times in a batch', async () => {
      const s = await newStream(store);
      const r = await store.ingest([
        track(s, 'o', [ev('x0', 'comment', { text: 'before joining' })]), // no viewer row yet: stored, counts nowhere
        join(s, 'o'),
        track(s, 'o', [ev('x1', 'watch', { playing: true, engagedMs: 5_000 })], NOW + 5_000, NOW),
        join(s, 'o', NOW + 6_000),
        { kind: 'reasons', channel: CHANNEL, viewerId: 'o', tier: 'mid', explain: why('watched'), lifecycle: 'active' },
        { kind: 'reasons', channel: CHANNEL, viewerId: 'o', tier: 'high', explain: why('bought') },
      ]);
      expect(r[1]).toMatchObject({ firstTime: true, streamWatchMs: 0 });
      expect(r[3]).toMatchObject({ firstTime: false, streamWatchMs: 5_000 });
      expect(await store.getViewer(CHANNEL, 'o')).toMatchObject({ comments: 0, watchMs: 5_000, tier: 'high', explain: why('bought'), lifecycle: 'active' });
      expect(await store.countEvents(s)).toBe(2);
    });

    it('of two servers storing the same event at once, one stores it and its counters move once', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'r')]);
      const events = Array.from({ length: 20 }, (_, i) => ev(`race-${i}`, 'like', { count: 1 }));
      const results = await Promise.all([store, ...peers].map((st) => st.ingest([track(s, 'r', events)])));
      const accepted = results.reduce((sum, [r]) => sum + r!.accepted.length, 0);
      const dups = results.reduce((sum, [r]) => sum + r!.duplicates, 0);
      expect(accepted).toBe(20);
      expect(dups).toBe(40);
      expect((await store.getViewerStream(s, 'r'))?.likes).toBe(20);
      expect(await store.countEvents(s)).toBe(20);
    });

    it('an event another server inserted first (still uncommitted at the lookup) counts as a duplicate, and later credits follow', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'late')]);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        // another server's batch holds hb1 (the SDK resent it there), not committed yet
        await other.query('BEGIN');
        await other.query(
          `INSERT INTO events (stream_id, id, viewer_id, type, client_ts, received_at, credit_ms, data) VALUES ($1, 'hb1', 'late', 'watch', 0, $2, 10000, '{}')`,
          [s, NOW + 10_000],
        );
        const beat = (id: string) => ev(id, 'watch', { playing: true, engagedMs: 10_000 });
        const pending = store.ingest([track(s, 'late', [beat('hb1'), beat('hb2'), ev('c', 'comment', { text: 'hi' })], NOW + 10_000, NOW)]);
        await new Promise((r) => setTimeout(r, 300)); // the insert now waits on hb1's key
        await other.query('COMMIT');
        const [r] = await pending;
        // hb1 lost the race: hb2 is the first credited heartbeat, so it earns the 10 s hb1 would have
        expect(r).toMatchObject({ duplicates: 1, watchCredited: 10_000, lastCreditAt: NOW + 10_000 });
        expect(r!.accepted.map((e) => e.id)).toEqual(['hb2', 'c']);
        const rows = await sql('SELECT id, credit_ms::int AS credit FROM events WHERE stream_id = $1 AND type = $2 ORDER BY id', [s, 'watch']);
        expect(rows).toEqual([{ id: 'hb1', credit: 10_000 }, { id: 'hb2', credit: 10_000 }]);
        expect(await store.getViewerStream(s, 'late')).toMatchObject({ watchMs: 10_000, comments: 1 });
      } finally {
        await other.end();
      }
    });

    it('marks offers seen and clicked, and delivered once', async () => {
      const s = await newStream(store);
      await store.insertCampaign({ streamId: s, id: 'c', channel: CHANNEL, doc: manualDoc(), now: NOW });
      await store.ingest([join(s, 'k')]);
      const [issued] = await store.issueOffers(issueRequest(s, 'c', ['k']));
      const offer = issued!.offer!;
      await store.ingest([{ kind: 'delivered', offerId: offer.id, now: NOW + 1 }]);
      await store.ingest([{ kind: 'delivered', offerId: offer.id, now: NOW + 2 }]);
      await store.ingest([track(s, 'k', [ev('s1', 'offer_click', { offerId: offer.id }), ev('s2', 'offer_seen', { offerId: offer.id })], NOW + 3)]);
      expect(await store.offerByCode(offer.code)).toMatchObject({ deliveredAt: NOW + 1, seenAt: NOW + 3, clickedAt: NOW + 3 });
    });
  });

  describe('issueOffers', () => {
    it('5 concurrent sends from 3 servers over 30 viewers with a quota of 10 issue exactly 10', async () => {
      const s = await newStream(store);
      await store.insertCampaign({ streamId: s, id: 'q', channel: CHANNEL, doc: manualDoc({ maxIssued: 10 }), now: NOW });
      const viewers = Array.from({ length: 30 }, (_, i) => `q${i}`);
      const servers = [store, ...peers];
      const sends = await Promise.all(
        Array.from({ length: 5 }, (_, i) => servers[i % 3]!.issueOffers(issueRequest(s, 'q', i % 2 ? [...viewers].reverse() : viewers))),
      );
      const issued = sends.flat().filter((r) => r.decision?.kind === 'issue');
      expect(issued).toHaveLength(10);
      expect(issued.every((r) => r.offer && r.offer.viewerId === r.viewerId && /^[2-9A-Z]{10}$/.test(r.offer.code))).toBe(true);
      expect(new Set(issued.map((r) => r.viewerId)).size).toBe(10); // one per viewer
      const c = await store.getCampaign(s, 'q');
      expect(c).toMatchObject({ issued: 10, committed: 1000 });
      expect(c!.skipped.quota + c!.skipped.alreadyHas).toBe(5 * 30 - 10);
      expect((await sql('SELECT COUNT(*)::int AS n FROM offers WHERE stream_id = $1', [s]))[0].n).toBe(10);
      expect((await sql(`SELECT COUNT(*)::int AS n FROM campaign_assignments WHERE stream_id = $1 AND arm = 'treatment'`, [s]))[0].n).toBe(10);
    }, 15_000);

    it('the quota and the budget hold in the database even when the caller checks nothing', async () => {
      const s = await newStream(store);
      await store.insertCampaign({ streamId: s, id: 'b', channel: CHANNEL, doc: manualDoc({ budget: 250, perViewer: 100 }), now: NOW });
      const servers = [store, ...peers];
      const sends = await Promise.all(servers.map((st) => st.issueOffers(issueRequest(s, 'b', ['b1', 'b2', 'b3', 'b4'], { trustColumnsOnly: true }))));
      const issued = sends.flat().filter((r) => r.decision?.kind === 'issue');
      expect(issued).toHaveLength(2); // 2 × 100 ≤ 250 < 3 × 100
      const c = await store.getCampaign(s, 'b');
      expect(c).toMatchObject({ issued: 2, committed: 200 });
      expect(c!.skipped.quota).toBe(10); // refused by the conditional UPDATE
    });

    it('a viewer listed twice gets one offer, and two campaigns at once respect the frequency cap', async () => {
      const s = await newStream(store);
      await store.insertCampaign({ streamId: s, id: 'x', channel: CHANNEL, doc: manualDoc(), now: NOW });
      await store.insertCampaign({ streamId: s, id: 'y', channel: CHANNEL, doc: manualDoc(), now: NOW });
      const twice = await store.issueOffers(issueRequest(s, 'x', ['solo', 'solo']));
      expect(twice.map((r) => r.decision)).toEqual([{ kind: 'issue', value: 100 }, { kind: 'skip', reason: 'alreadyHas' }]);

      const viewers = Array.from({ length: 10 }, (_, i) => `f${i}`);
      const [a, b] = await Promise.all([
        store.issueOffers(issueRequest(s, 'x', viewers)),
        peers[0]!.issueOffers(issueRequest(s, 'y', [...viewers].reverse())),
      ]);
      const issued = [...a!, ...b!].filter((r) => r.decision?.kind === 'issue');
      // min interval 120 s: whichever campaign came first, each viewer got exactly one offer
      expect(issued).toHaveLength(10);
      expect(new Set(issued.map((r) => r.viewerId)).size).toBe(10);
      const capped = [...a!, ...b!].filter((r) => r.decision?.kind === 'skip' && r.decision.reason === 'capped');
      expect(capped).toHaveLength(10);
    });

    it('holds control viewers without spending stock, and passes over viewers decide returns null for', async () => {
      const s = await newStream(store);
      await store.insertCampaign({ streamId: s, id: 'h', channel: CHANNEL, doc: manualDoc({ maxIssued: 1 }), now: NOW });
      const req = issueRequest(s, 'h', ['held', 'gone', 'got']);
      const r = await store.issueOffers({
        ...req,
        decide: (c, h, v) => (v === 'gone' ? null : v === 'held' ? { kind: 'hold' } : req.decide(c, h, v)),
      });
      expect(r.map((x) => x.decision?.kind ?? null)).toEqual(['hold', null, 'issue']);
      const arms = await store.campaignArms(s, 'h', CHANNEL, 3_600_000);
      expect(arms).toEqual([{ arm: 'control', n: 1, conversions: 0 }, { arm: 'treatment', n: 1, conversions: 0 }]);
      expect(await store.getCampaign(s, 'h')).toMatchObject({ issued: 1 });
    });
  });

  describe('purchases and redemptions', () => {
    const purchase = (streamId: string, orderId: string, viewerId: string, couponCode: string | null = null, amount = 5000) => ({
      purchase: { channel: CHANNEL, orderId, streamId, viewerId, amount, currency: 'CNY', items: [{ sku: 'A' }], couponCode, at: NOW - 1000, createdAt: NOW },
      now: NOW,
    });

    it('records a purchase once; the repeat returns the row as first recorded', async () => {
      const s = await newStream(store);
      const first = await store.recordPurchase(purchase(s, 'o-1', 'buyer'));
      expect(first).toMatchObject({ inserted: true, purchase: { orderId: 'o-1', amount: 5000, refunded: 0, items: [{ sku: 'A' }] } });
      const again = await peers[0]!.recordPurchase(purchase(s, 'o-1', 'buyer', null, 9999));
      expect(again).toMatchObject({ inserted: false, existing: { orderId: 'o-1', amount: 5000 } });
      expect(await store.getViewer(CHANNEL, 'buyer')).toMatchObject({ verified: true, firstSeenAt: NOW - 1000 });
      const [row] = await sql('SELECT orders, spend, last_purchase_at FROM viewers WHERE channel = $1 AND id = $2', [CHANNEL, 'buyer']);
      expect(row).toEqual({ orders: '1', spend: '5000', last_purchase_at: String(NOW - 1000) }); // a plain client reads int8 as text
      await store.refund(CHANNEL, 'o-1', 5000);
      expect(await store.viewerPurchases(CHANNEL, 'buyer')).toEqual([{ orderId: 'o-1', amount: 0, at: NOW - 1000, currency: 'CNY' }]);
      expect(await store.boughtHere(CHANNEL, s, 'buyer')).toBe(false);
      expect((await store.streamTotals(s)).gmv).toBe(0);
    });

    it('two purchases racing with one coupon code: exactly one redeems it', async () => {
      const s = await newStream(store);
      await store.insertCampaign({ streamId: s, id: 'cp', channel: CHANNEL, doc: manualDoc(), now: NOW });
      const [issued] = await store.issueOffers(issueRequest(s, 'cp', ['coupon-holder']));
      const offer = issued!.offer!;
      const results = await Promise.all([
        store.recordPurchase(purchase(s, 'race-a', 'coupon-holder', offer.code)),
        peers[1]!.recordPurchase(purchase(s, 'race-b', 'coupon-holder', offer.code)),
      ]);
      const statuses = results.map((r) => (r.inserted ? r.coupon?.status : 'not inserted')).sort();
      expect(statuses).toEqual(['already_redeemed', 'redeemed']);
      const stored = await store.offerByCode(offer.code);
      expect(['race-a', 'race-b']).toContain(stored!.redeemedOrder);
      // the winning order redeeming again is an idempotent repeat; anyone else is refused
      expect(await store.redeem(CHANNEL, offer.code, stored!.redeemedOrder!, 'coupon-holder', NOW)).toMatchObject({ status: 'redeemed', now: false });
      expect(await store.redeem(CHANNEL, offer.code, 'race-c', 'someone-else', NOW)).toMatchObject({ status: 'other_viewer' });
      expect(await store.redeem(CHANNEL, 'NOPE', 'race-c', 'coupon-holder', NOW)).toMatchObject({ status: 'not_found' });
      expect((await store.getViewer(CHANNEL, 'coupon-holder'))?.verified).toBe(true);
      expect((await store.streamTotals(s)).offers).toEqual({ issued: 1, delivered: 0, redeemed: 1 });
    });
  });

  describe('retention', () => {
    it('drops a whole old day partition, keeps today, and trims the DEFAULT partition by batch', async () => {
      const s = await newStream(store);
      const old = dayStart(NOW) - 20 * DAY_MS + 3_600_000;
      await store.ingest([join(s, 'ret', old), track(s, 'ret', [ev('old1', 'comment', { text: 'a' }), ev('old2', 'comment', { text: 'b' })], old)]);
      await store.ingest([track(s, 'ret', [ev('new1', 'comment', { text: 'c' })], NOW)]);
      expect((await sql('SELECT to_regclass($1) AS t', [partitionName(dayStart(old))]))[0].t).toBe(partitionName(dayStart(old)));
      // rows of a day without a partition land in the DEFAULT one
      const older = dayStart(NOW) - 40 * DAY_MS;
      await sql(
        `INSERT INTO events (stream_id, id, viewer_id, type, client_ts, received_at) VALUES ($1, 'd1', 'ret', 'like', 0, $2), ($1, 'd2', 'ret', 'like', 0, $2)`,
        [s, older],
      );
      expect((await sql('SELECT COUNT(*)::int AS n FROM events_default'))[0].n).toBe(2);

      const cutoff = NOW - 10 * DAY_MS;
      const went = await store.purgeEvents(cutoff, 1);
      expect(went).toBe(3); // the old day's 2 rows, and 1 of the DEFAULT partition's
      expect((await sql('SELECT to_regclass($1) AS t', [partitionName(dayStart(old))]))[0].t).toBeNull();
      expect((await sql('SELECT COUNT(*)::int AS n FROM events_default'))[0].n).toBe(1);
      expect(await store.purgeEvents(cutoff, 1)).toBe(1);
      expect(await store.purgeEvents(cutoff, 1)).toBe(0);
      const left = await sql('SELECT id FROM events WHERE stream_id = $1 ORDER BY id', [s]);
      expect(left.map((r) => r.id)).toEqual(['new1']);
      // the counters stay
      expect((await store.getViewerStream(s, 'ret'))?.comments).toBe(3);
    });
  });

  describe('viewers', () => {
    it('alias moves an anonymous history once, dropping events the verified viewer already has', async () => {
      const s = await newStream(store);
      await store.ingest([
        join(s, 'anon'),
        track(s, 'anon', [ev('a1', 'comment', { text: 'x' }), ev('a2', 'like'), ev('shared', 'product_view', { sku: 'A' })]),
        join(s, 'real', NOW, true),
        track(s, 'real', [ev('shared', 'product_view', { sku: 'A' })]),
      ]);
      const r = await store.alias(CHANNEL, 'anon', 'real', NOW + 1);
      expect(r).toEqual({ merged: true, viewerId: 'real', events: 2 });
      expect(await store.getViewer(CHANNEL, 'anon')).toBeNull();
      expect(await store.getViewerStream(s, 'anon')).toBeNull();
      expect(await store.getViewer(CHANNEL, 'real')).toMatchObject({ verified: true, comments: 1, likes: 1, productViews: 1 }); // 'shared' is stored once, so it counts once
      expect(await store.countEvents(s)).toBe(3);
      expect(await peers[0]!.alias(CHANNEL, 'anon', 'someone', NOW + 2)).toEqual({ merged: false, viewerId: 'real', events: 0 });
      const exp = await store.exportViewer(CHANNEL, 'real');
      expect(exp!.events.map((e) => e.id).sort()).toEqual(['a1', 'a2', 'shared']);
      expect(exp!.aliases).toEqual([{ anon_id: 'anon', viewer_id: 'real', events: 2, at: NOW + 1 }]);
    });

    it('erases a viewer but keeps their purchases under the erased id', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'gdpr'), track(s, 'gdpr', [ev('g1', 'comment', { text: 'bye' })])]);
      await store.recordPurchase({ purchase: { channel: CHANNEL, orderId: 'g-o', streamId: s, viewerId: 'gdpr', amount: 100, currency: 'CNY', items: [{ sku: 'Z' }], couponCode: null, at: NOW, createdAt: NOW }, now: NOW });
      expect(await store.eraseViewer(CHANNEL, 'gdpr', 'erased:1')).toBe(true);
      expect(await store.getViewer(CHANNEL, 'gdpr')).toBeNull();
      expect(await store.countEvents(s)).toBe(0);
      expect(await store.getPurchase(CHANNEL, 'g-o')).toMatchObject({ viewerId: 'erased:1', items: null });
      expect(await store.eraseViewer(CHANNEL, 'gdpr', 'erased:2')).toBe(false);
    });

    it('lists viewers page by page in the same order as one long page, and the CSV in first-seen order', async () => {
      const s = await newStream(store);
      const jobs: IngestJob[] = [];
      for (let i = 0; i < 1005; i++) jobs.push(join(s, `l${String(i).padStart(4, '0')}`, NOW + (i % 7)));
      await store.ingest(jobs);
      const q = { channel: CHANNEL, streamId: s, tier: null, lifecycle: null, sort: 'recent' as const, limit: 2000, after: null };
      const all = await store.listViewers(q);
      expect(all).toHaveLength(1005);
      const paged: string[] = [];
      let after: { key: number; id: string } | null = null;
      for (;;) {
        const page = await store.listViewers({ ...q, limit: 100, after });
        if (!page.length) break;
        paged.push(...page.map((r) => r.id));
        const last = page[page.length - 1]!;
        after = { key: last.sortKey, id: last.id };
      }
      expect(paged).toEqual(all.map((r) => r.id));
      const csv: string[] = [];
      for await (const r of store.csvRows(CHANNEL, s)) csv.push(r.id);
      const expected = [...all].sort((a, b) => a.firstSeenAt - b.firstSeenAt || (a.id < b.id ? -1 : 1)).map((r) => r.id);
      expect(csv).toEqual(expected);
    }, 15_000);

    it('counts one poll answer per viewer, the latest before the poll closed', async () => {
      const s = await newStream(store);
      await store.openPoll(s, { id: 'poll1', question: 'Like it?', scale: 5, closesAt: NOW + 60_000 }, NOW);
      const answer = (id: string, value: number) => ev(id, 'poll_answer', { pollId: 'poll1', value });
      await store.ingest([join(s, 'p1'), join(s, 'p2'), track(s, 'p1', [answer('a', 2)], NOW + 1), track(s, 'p2', [answer('b', 5)], NOW + 1)]);
      await store.ingest([track(s, 'p1', [answer('c', 4)], NOW + 2)]);
      await store.ingest([track(s, 'p2', [answer('d', 1)], NOW + 120_000)]); // after it closed
      expect(await store.pollCounts(s, 'poll1', NOW + 60_000)).toEqual([0, 0, 0, 1, 1]);
      expect(await store.openPollFor(s, 'p1', NOW + 3)).toBeNull(); // answered
      expect(await store.openPollFor(s, 'p3', NOW + 3)).toMatchObject({ id: 'poll1', closesAt: NOW + 60_000 });
      await store.openPoll(s, { id: 'poll2', question: 'Again?', scale: 5, closesAt: NOW + 90_000 }, NOW + 10);
      expect((await store.polls(s)).map((p) => [p.id, p.closesAt])).toEqual([['poll1', NOW + 10], ['poll2', NOW + 90_000]]);
      expect((await store.latestPoll(s))?.id).toBe('poll2');
    });
  });

  describe('keys and campaigns', () => {
    it('rotates keys with a grace period', async () => {
      const s = await newStream(store);
      const before = (await store.getStream(s))!;
      await store.rotateKeys(s, { hostKeyHash: 'h-next', ingestKeyHash: 'i-next' }, NOW + 60_000, NOW);
      expect(await store.streamByHostHash('h-next')).toMatchObject({ id: s });
      expect(await store.retiredKey(before.hostKeyHash, NOW)).toEqual({ streamId: s, kind: 'host' });
      expect(await store.retiredKey(before.ingestKeyHash, NOW + 60_000)).toBeNull();
      expect(await store.createStream({ ...before, hostKeyHash: 'x', ingestKeyHash: 'y' }, 'other')).toBe(false);
      expect(await store.getChannelSecret(CHANNEL)).toBe('secret');
    });

    it('ensures campaigns idempotently and lists the triggered ones', async () => {
      const s = await newStream(store);
      const vip: CampaignDoc = { ...manualDoc(), trigger: { type: 'tier_entered', tier: 'high' } };
      await store.ensureCampaigns(s, CHANNEL, [{ id: 'default:vip', doc: vip }, { id: 'm', doc: manualDoc({ maxIssued: 3 }) }], NOW);
      await store.ensureCampaigns(s, CHANNEL, [{ id: 'default:vip', doc: manualDoc() }], NOW + 1);
      expect((await store.listCampaigns(s)).map((c) => c.id)).toEqual(['default:vip', 'm']);
      expect((await store.listTriggered(s)).map((c) => c.id)).toEqual(['default:vip']);
      expect((await sql('SELECT max_issued FROM campaigns WHERE stream_id = $1 AND id = $2', [s, 'm']))[0].max_issued).toBe('3');
    });
  });

  describe('webhooks', () => {
    it("a fan-out racing its endpoint's deletion leaves no delivery behind (the endpoint is held until the fan-out commits)", async () => {
      const channel = uid('hooks-');
      const streamId = uid('stream-');
      await store.createStream({ id: streamId, channel, title: 'Live', allowedOrigins: [], hostKeyHash: uid('h-'), ingestKeyHash: uid('i-'), createdAt: NOW }, 'secret');
      // two servers of their own: the shared pools stay as the availability tests expect them (one idle connection or so)
      const servers = await Promise.all([createPostgresStore(url, { poolSize: 4 }), createPostgresStore(url, { poolSize: 4 })]);
      const [a, b] = servers as [Store, Store];
      try {
        for (let round = 0; round < 15; round++) {
          const ids = Array.from({ length: 3 }, (_, k) => `race-wh-${round}-${k}`);
          for (const id of ids) {
            await store.createWebhook({
              id, channel, url: 'https://crm.example/hook', events: ['purchase.recorded', 'stream.ended'], description: null, secret: 'whsec_x',
              enabled: true, disabledReason: null, failingSince: null, createdAt: NOW, updatedAt: NOW,
            });
          }
          const ops: Promise<unknown>[] = [];
          for (let i = 0; i < 6; i++) {
            const on = servers[i % servers.length]!;
            ops.push(on.recordPurchase({
              purchase: { channel, orderId: `race-${round}-${i}`, streamId, viewerId: `v${i}`, amount: 100, currency: 'CNY', items: null, couponCode: null, at: NOW, createdAt: NOW },
              now: NOW,
            }));
            ops.push(on.enqueueWebhooks([{ id: `race-evt-${round}-${i}`, type: 'stream.ended', channel, viewerId: null, at: NOW, data: {} }], NOW));
          }
          ops.push(a.deleteWebhook(channel, ids[0]!), b.deleteWebhook(channel, ids[1]!), a.updateWebhook(channel, ids[2]!, { enabled: false }, NOW));
          await Promise.all(ops);
        }
      } finally {
        await Promise.all(servers.map((x) => x.close()));
      }
      // no prune ran: an orphan would still be here
      const [orphans] = await sql(
        `SELECT COUNT(*)::int AS n FROM webhook_deliveries d WHERE d.webhook_id LIKE 'race-wh-%' AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)`,
      );
      expect(orphans.n).toBe(0);
    }, 30_000);
  });

  describe('availability', () => {
    it('an unreachable database rejects quickly with StoreUnavailableError, naming the address but never the password', async () => {
      const started = Date.now();
      const err = await createPostgresStore('postgres://postgres:hunter2@127.0.0.1:1/test').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/^PostgreSQL at 127\.0\.0\.1:1\/test is unreachable: connect ECONNREFUSED/);
      expect((err as Error).message).not.toContain('hunter2');
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('a connection killed in the middle of a transaction rejects it with StoreUnavailableError, and the next one works', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'cut')]);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query(`INSERT INTO events (stream_id, id, viewer_id, type, client_ts, received_at) VALUES ($1, 'k', 'cut', 'like', 0, $2)`, [s, NOW]);
        const pending = store.ingest([track(s, 'cut', [ev('k', 'like')])]).catch((e: unknown) => e);
        await new Promise((r) => setTimeout(r, 300)); // waiting on k's key, inside its transaction
        await admin((c) => c.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'livetier' AND wait_event_type = 'Lock'`,
          [new URL(url).pathname.slice(1)],
        ));
        expect(await pending).toBeInstanceOf(StoreUnavailableError);
        await other.query('ROLLBACK');
      } finally {
        await other.end();
      }
      const [r] = await store.ingest([track(s, 'cut', [ev('k', 'like')])]);
      expect(r!.accepted).toHaveLength(1);
    });

    it('a closed store rejects with StoreUnavailableError', async () => {
      const own = await createPostgresStore(url, { poolSize: 1 });
      await own.ping();
      await own.close();
      await expect(own.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(own.ingest([join('s', 'v')])).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('recovers by itself after its connections were killed', async () => {
      const s = await newStream(store);
      await store.ping();
      await admin((c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(url).pathname.slice(1)]));
      // a query on a connection killed under it reports the store unavailable (or already got a fresh one)
      const first = await store.getStream(s).catch((e: unknown) => e);
      if (first instanceof Error) expect(first).toBeInstanceOf(StoreUnavailableError);
      expect(await store.getStream(s)).toMatchObject({ id: s });
      await Promise.all(peers.map((p) => p.ping().catch(() => p.ping())));
    });
  });
});
