/**
 * The store contract, executable: one suite of assertions that every `Store` implementation must
 * pass, so the engine and the routes can rely on `types.ts` alone. It runs against SQLite always (a
 * fresh file under the OS temp directory) and against PostgreSQL when `./postgres/index.js` exists
 * and the server named by LIVETIER_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres)
 * answers: each run creates fresh `lt_contract_<random>` databases there and drops them after.
 *
 * One store per implementation is shared by the tests; each test works in its own channel and
 * streams (random ids), so tests never see each other's rows. The few tests that need an empty
 * database (retention, close) open their own store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite/index.js';
import {
  StoreUnavailableError,
  type CampaignOfferRow, type CampaignRow, type IngestJob, type IssueRequest, type IssueResult, type ListQuery, type NewStream,
  type OfferRow, type PurchaseRecord, type Store, type ViewerSort, type WebhookRow,
} from './types.js';
import type { ValidEvent } from '../ingest/schema.js';
import { DEFAULT_CAMPAIGNS, type CampaignDoc } from '../offers/campaign.js';
import { armOf, decide, inAudience, type Decision, type ViewerFacts } from '../offers/rules.js';
import { CODE_ALPHABET, CODE_LENGTH } from '../offers/codes.js';
import type { Tier } from '../realtime/events.js';
import { JOB_LEASE_MS } from '../jobs/due.js';
import { storedDeltas } from '../ingest/tally.js';
import fc from 'fast-check';
import { reason, type Explain } from '../tiering/explain.js';
import type { ChannelModel } from '../predict/channel-model.js';

/** an opaque reason (what the store keeps is the tier model's business) */
const why = (text: string): Explain[] => [reason('text', { text })];

// ---------------------------------------------------------------- the stores under test

interface Harness {
  name: string;
  /** a new, empty store */
  open(): Promise<Store>;
  /** closes every store opened and removes their databases */
  cleanup(): Promise<void>;
}

function sqliteHarness(): Harness {
  let dir: string | null = null;
  const opened: Store[] = [];
  return {
    name: 'sqlite',
    async open() {
      dir ??= mkdtempSync(path.join(os.tmpdir(), 'livetier-contract-'));
      const store = openSqliteStore(path.join(dir, `store-${opened.length + 1}.db`));
      opened.push(store);
      return store;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** null (and one line saying why) when the PostgreSQL store is not written yet or no server answers */
async function postgresHarness(): Promise<Harness | null> {
  const base = process.env.LIVETIER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const specifier = './postgres/index.js'; // not a literal import: the module may not exist (yet)
  let createPostgresStore: (url: string) => Store | Promise<Store>;
  try {
    ({ createPostgresStore } = await import(/* @vite-ignore */ specifier));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('postgres/index')) throw err; // there, but broken
    console.log('store contract: PostgreSQL skipped (server/store/postgres/index.ts does not exist)');
    return null;
  }
  const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    const u = new URL(base);
    if (u.password) u.password = '***';
    console.log(`store contract: PostgreSQL skipped (${u} does not answer: ${(err as Error).message}); start PostgreSQL or set LIVETIER_TEST_PG`);
    return null;
  }
  const databases: string[] = [];
  const opened: Store[] = [];
  return {
    name: 'postgres',
    async open() {
      const name = `lt_contract_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.push(name);
      const url = new URL(base);
      url.pathname = `/${name}`;
      const store = await createPostgresStore(url.toString());
      opened.push(store);
      return store;
    },
    async cleanup() {
      // the pools first: a connection terminated under a live pool is an unhandled error
      for (const s of opened) await s.close().catch(() => {});
      for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const harnesses: Harness[] = [sqliteHarness()];
const postgres = await postgresHarness();
if (postgres) harnesses.push(postgres);

// ---------------------------------------------------------------- fixtures

const T0 = Date.UTC(2026, 5, 1, 12);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let seq = 0;
/** a fresh id, unique in the run */
const uid = (prefix: string) => `${prefix}-${(++seq).toString(36)}-${randomBytes(3).toString('hex')}`;

type Fixture = NewStream;

function newStreamRow(channel = uid('ch')): NewStream {
  return {
    id: uid('s'),
    channel,
    title: 'Spring drop',
    allowedOrigins: ['https://shop.example'],
    hostKeyHash: randomBytes(32).toString('hex'),
    ingestKeyHash: randomBytes(32).toString('hex'),
    createdAt: T0,
  };
}

async function newStream(store: Store, channel?: string): Promise<Fixture> {
  const s = newStreamRow(channel);
  expect(await store.createStream(s, `secret-${s.channel}`)).toBe(true);
  return s;
}

const ev = (type: string, data: Record<string, unknown> = {}, id = uid('e')): ValidEvent => ({ id, type, ts: T0, data }) as ValidEvent;

const join = (s: Fixture, viewerId: string, now = T0, verified = false): IngestJob => ({
  kind: 'join', streamId: s.id, channel: s.channel, viewerId, verified, now,
});

const track = (s: Fixture, viewerId: string, events: ValidEvent[], now = T0, lastCreditAt = now): IngestJob => ({
  kind: 'track', streamId: s.id, channel: s.channel, viewerId, events, now, lastCreditAt,
});

const manualDoc = (over: Partial<CampaignDoc> = {}): CampaignDoc => ({
  name: 'Flash deal',
  trigger: { type: 'manual' },
  offer: { title: '¥10 off', description: 'Today only', discount: { kind: 'amount', value: 1000 }, minSpend: 5000, ttlSeconds: 600 },
  ...over,
});

async function newCampaign(store: Store, s: Fixture, doc: CampaignDoc = manualDoc(), now = T0): Promise<string> {
  const id = uid('c');
  expect(await store.insertCampaign({ streamId: s.id, id, channel: s.channel, doc, now })).toBe(true);
  return id;
}

/** the offer a campaign issues, as service.ts builds it */
function campaignOffer(c: CampaignRow, viewerId: string, currency: string, value: number, now: number): Omit<CampaignOfferRow, 'code'> {
  const o = c.doc.offer;
  return {
    id: randomUUID(), channel: c.channel, streamId: c.streamId, viewerId, campaign: c.id, title: o.title,
    description: o.description ?? null, discountKind: o.discount.kind, discountValue: o.discount.value, minSpend: o.minSpend ?? null,
    currency, createdAt: now, expiresAt: now + o.ttlSeconds * 1000, value, maxDiscount: o.maxDiscount ?? null, skus: o.skus ?? null,
  };
}

interface RequestOptions {
  facts?: (viewerId: string) => ViewerFacts;
  /** collects the campaign row each decision was made from */
  seen?: CampaignRow[];
  /** replaces the real rules */
  decide?: IssueRequest['decide'];
}

/** a check-and-issue with the real pure rules (rules.ts), as the offer service asks for one */
function request(s: Fixture, campaignId: string, viewerIds: string[], now: number, opts: RequestOptions = {}): IssueRequest {
  const facts = opts.facts ?? (() => ({ tier: 'potential' as Tier, lifecycle: 'new' }));
  return {
    streamId: s.id,
    channel: s.channel,
    campaignId,
    now,
    viewers: viewerIds.map((viewerId) => ({ viewerId, currency: 'CNY' })),
    decide: (c, history, viewerId) => {
      opts.seen?.push(c);
      if (opts.decide) return opts.decide(c, history, viewerId);
      if (c.status !== 'active' || !inAudience(c.doc.audience, facts(viewerId))) return null;
      const arm = armOf(c.streamId, c.id, viewerId, c.doc.holdoutPercent ?? 0);
      return decide(c.doc, { issued: c.issued, committed: c.committed }, history, arm, now);
    },
    offer: (c, viewerId, currency, value) => campaignOffer(c, viewerId, currency, value, now),
  };
}

/** issues one offer of a fresh manual campaign to `viewerId` */
async function offerFor(store: Store, s: Fixture, viewerId: string, now = T0, doc?: CampaignDoc): Promise<OfferRow> {
  const c = await newCampaign(store, s, doc, now);
  const [r] = await store.issueOffers(request(s, c, [viewerId], now));
  expect(r!.decision).toEqual({ kind: 'issue', value: expect.any(Number) });
  return r!.offer!;
}

const kinds = (rs: IssueResult[]) => rs.map((r) => r.decision?.kind ?? null);

function purchase(s: Fixture, viewerId: string, amount: number, over: Partial<PurchaseRecord['purchase']> = {}): PurchaseRecord {
  return {
    purchase: {
      channel: s.channel, orderId: uid('o'), streamId: s.id, viewerId, amount, currency: 'CNY', items: [{ sku: 'TEE-1', qty: 1 }],
      couponCode: null, at: T0, createdAt: T0, ...over,
    },
    now: over.createdAt ?? T0,
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** `ids` sorted by `key` descending, then id ascending: the viewer list's order */
function listOrder(rows: { id: string; sortKey: number }[]): string[] {
  return [...rows].sort((a, b) => b.sortKey - a.sortKey || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => r.id);
}

// ---------------------------------------------------------------- the contract

describe.each(harnesses)('store contract: $name', (h) => {
  let store: Store;
  beforeAll(async () => {
    store = await h.open();
  }, 60_000);
  afterAll(() => h.cleanup(), 60_000);

  it('answers a ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    expect(['sqlite', 'postgres']).toContain(store.kind);
    expect(store.kind).toBe(h.name);
  });

  describe('channels, streams and keys', () => {
    it('creates the channel with the first stream, keeps its secret, refuses a taken stream id', async () => {
      const s = newStreamRow();
      expect(await store.channelExists(s.channel)).toBe(false);
      expect(await store.getChannelSecret(s.channel)).toBeNull();
      expect(await store.createStream(s, 'first-secret')).toBe(true);
      expect(await store.channelExists(s.channel)).toBe(true);
      expect(await store.getChannelSecret(s.channel)).toBe('first-secret');

      const second = newStreamRow(s.channel);
      expect(await store.createStream(second, 'other-secret')).toBe(true);
      expect(await store.getChannelSecret(s.channel)).toBe('first-secret');

      expect(await store.createStream({ ...newStreamRow(), id: s.id, title: 'taken' }, 'x')).toBe(false);
      expect(await store.getStream(s.id)).toEqual({ ...s, endedAt: null });
      expect(await store.getStream('no-such-stream')).toBeNull();
    });

    it("keeps a channel's one currency: the first claim sets it, concurrent claims agree on one", async () => {
      const s = await newStream(store);
      expect(await store.getChannelCurrency(s.channel)).toBeNull();
      const claims = await Promise.all(['USD', 'CNY', 'EUR'].map((c) => store.claimChannelCurrency(s.channel, c)));
      expect(new Set(claims).size).toBe(1);
      expect(await store.getChannelCurrency(s.channel)).toBe(claims[0]);
      expect(await store.claimChannelCurrency(s.channel, 'JPY')).toBe(claims[0]);
      expect(await store.claimChannelCurrency('no-such-channel', 'JPY')).toBeNull();
    });

    it('finds a stream by the digest of either key', async () => {
      const s = await newStream(store);
      expect(await store.streamByIngestHash(s.ingestKeyHash)).toEqual({ ...s, endedAt: null });
      expect(await store.streamByHostHash(s.hostKeyHash)).toEqual({ ...s, endedAt: null });
      expect(await store.streamByIngestHash(s.hostKeyHash)).toBeNull();
      expect(await store.streamByHostHash(s.ingestKeyHash)).toBeNull();
    });

    it('rotates keys: the old digests stay valid for the grace period, then stop', async () => {
      const s = await newStream(store);
      const next = { hostKeyHash: randomBytes(32).toString('hex'), ingestKeyHash: randomBytes(32).toString('hex') };
      const until = T0 + 10 * MINUTE;
      await store.rotateKeys(s.id, next, until, T0);
      expect(await store.getStream(s.id)).toEqual({ ...s, ...next, endedAt: null });
      expect(await store.streamByHostHash(next.hostKeyHash)).toEqual({ ...s, ...next, endedAt: null });
      expect(await store.streamByHostHash(s.hostKeyHash)).toBeNull();
      expect(await store.retiredKey(s.hostKeyHash, T0 + 1)).toEqual({ streamId: s.id, kind: 'host' });
      expect(await store.retiredKey(s.ingestKeyHash, until - 1)).toEqual({ streamId: s.id, kind: 'ingest' });
      expect(await store.retiredKey(s.hostKeyHash, until)).toBeNull();
      expect(await store.retiredKey(next.hostKeyHash, T0 + 1)).toBeNull();

      // without a grace period the replaced keys stop at once
      const third = { hostKeyHash: randomBytes(32).toString('hex'), ingestKeyHash: randomBytes(32).toString('hex') };
      await store.rotateKeys(s.id, third, null, T0 + MINUTE);
      expect(await store.retiredKey(next.hostKeyHash, T0 + MINUTE + 1)).toBeNull();
      expect(await store.retiredKey(next.ingestKeyHash, T0 + MINUTE + 1)).toBeNull();
      expect(await store.streamByIngestHash(third.ingestKeyHash)).toEqual({ ...s, ...third, endedAt: null });
    });

    it("rotates a channel's token secret: the replaced one is read back during its grace period, then not", async () => {
      const s = newStreamRow();
      expect(await store.createStream(s, 'secret-1')).toBe(true);
      expect(await store.getChannelSecrets(s.channel, T0)).toEqual({ current: 'secret-1', previous: null });

      const until = T0 + 10 * MINUTE;
      expect(await store.rotateChannelSecret(s.channel, 'secret-2', until, T0)).toBe(true);
      expect(await store.getChannelSecret(s.channel)).toBe('secret-2');
      expect(await store.getChannelSecrets(s.channel, T0 + 1)).toEqual({ current: 'secret-2', previous: 'secret-1' });
      expect(await store.getChannelSecrets(s.channel, until - 1)).toEqual({ current: 'secret-2', previous: 'secret-1' });
      expect(await store.getChannelSecrets(s.channel, until)).toEqual({ current: 'secret-2', previous: null });

      // a second rotation during the grace period: the secret it replaces is the previous one now,
      // and the first secret stops
      const later = T0 + 20 * MINUTE;
      expect(await store.rotateChannelSecret(s.channel, 'secret-3', later, T0 + MINUTE)).toBe(true);
      expect(await store.getChannelSecrets(s.channel, T0 + 2 * MINUTE)).toEqual({ current: 'secret-3', previous: 'secret-2' });

      // without a grace period the replaced secret stops at once
      expect(await store.rotateChannelSecret(s.channel, 'secret-4', null, T0 + 3 * MINUTE)).toBe(true);
      expect(await store.getChannelSecrets(s.channel, T0 + 3 * MINUTE)).toEqual({ current: 'secret-4', previous: null });
      expect(await store.getChannelSecret(s.channel)).toBe('secret-4');
      // a grace period that ended before the rotation keeps nothing either
      expect(await store.rotateChannelSecret(s.channel, 'secret-5', T0 + 3 * MINUTE, T0 + 4 * MINUTE)).toBe(true);
      expect(await store.getChannelSecrets(s.channel, T0 + 2 * MINUTE)).toEqual({ current: 'secret-5', previous: null });

      // other channels are untouched
      const other = newStreamRow();
      expect(await store.createStream(other, 'other-secret')).toBe(true);
      expect(await store.getChannelSecrets(other.channel, T0)).toEqual({ current: 'other-secret', previous: null });
    });

    it('refuses to rotate the token secret of an unknown channel, and creates nothing', async () => {
      const channel = uid('ch');
      expect(await store.rotateChannelSecret(channel, 'secret', T0 + MINUTE, T0)).toBe(false);
      expect(await store.getChannelSecrets(channel, T0)).toBeNull();
      expect(await store.getChannelSecret(channel)).toBeNull();
      expect(await store.channelExists(channel)).toBe(false);
    });

    it("stores a channel's tier rules", async () => {
      const channel = uid('ch');
      expect(await store.getRules(channel)).toBeNull();
      await store.setRules(channel, { lookbackDays: 90, tiers: { high: 4 } }, T0);
      expect(await store.getRules(channel)).toEqual({ lookbackDays: 90, tiers: { high: 4 } });
      await store.setRules(channel, { lookbackDays: 30 }, T0 + 1);
      expect(await store.getRules(channel)).toEqual({ lookbackDays: 30 });
    });
  });

  describe('ingest', () => {
    it('join: first visit to the stream, verified sticks, the credited watch time so far', async () => {
      const s = await newStream(store);
      const [first] = await store.ingest([join(s, 'v1', T0)]);
      expect(first).toMatchObject({ firstTime: true, streamWatchMs: 0, accepted: [], duplicates: 0, watchCredited: 0 });
      expect(await store.getViewer(s.channel, 'v1')).toMatchObject({
        channel: s.channel, id: 'v1', verified: false, tier: 'potential', explain: [], watchMs: 0, firstSeenAt: T0, lastSeenAt: T0, lifecycle: 'new',
      });
      expect(await store.audience(s.id)).toBe(1);

      await store.ingest([track(s, 'v1', [ev('watch', { playing: true, engagedMs: 10_000 })], T0 + 10 * SECOND, T0)]);
      const [again] = await store.ingest([join(s, 'v1', T0 + 20 * SECOND, true)]);
      expect(again).toMatchObject({ firstTime: false, streamWatchMs: 10_000 });
      expect(await store.getViewer(s.channel, 'v1')).toMatchObject({ verified: true, firstSeenAt: T0, lastSeenAt: T0 + 20 * SECOND });
      // a later join never clears verified
      await store.ingest([join(s, 'v1', T0 + 30 * SECOND, false)]);
      expect((await store.getViewer(s.channel, 'v1'))!.verified).toBe(true);

      // a second stream of the channel: the viewer is known, the visit is new
      const other = await newStream(store, s.channel);
      const [elsewhere] = await store.ingest([join(other, 'v1', T0 + MINUTE)]);
      expect(elsewhere).toMatchObject({ firstTime: true, streamWatchMs: 0 });
      expect(await store.audience(s.id)).toBe(1);
      expect(await store.audience(other.id)).toBe(1);
    });

    it('track: credits watch time on the server clock, never more than it measured', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'v', T0)]);
      // claims 12 s, 10 s passed since the last credit: 10 s
      const [a] = await store.ingest([track(s, 'v', [ev('watch', { playing: true, engagedMs: 12_000 })], T0 + 10 * SECOND, T0)]);
      expect(a).toMatchObject({ watchCredited: 10_000, lastCreditAt: T0 + 10 * SECOND, duplicates: 0 });
      expect(a!.accepted).toHaveLength(1);
      // claims 30 s after 30 s: capped at one and a half heartbeats
      const [b] = await store.ingest([track(s, 'v', [ev('watch', { playing: true, engagedMs: 30_000 })], T0 + 40 * SECOND, T0 + 10 * SECOND)]);
      expect(b).toMatchObject({ watchCredited: 15_000, lastCreditAt: T0 + 40 * SECOND });
      // two heartbeats in one batch: the second is credited from the first
      const [c] = await store.ingest([
        track(s, 'v', [ev('watch', { playing: true, engagedMs: 5000 }), ev('watch', { playing: true, engagedMs: 5000 })], T0 + 50 * SECOND, T0 + 40 * SECOND),
      ]);
      expect(c).toMatchObject({ watchCredited: 5000, lastCreditAt: T0 + 50 * SECOND });
      expect((await store.getViewer(s.channel, 'v'))!.watchMs).toBe(30_000);
      expect((await store.getViewerStream(s.id, 'v'))!.watchMs).toBe(30_000);
    });

    it('dedups by event id within a batch, across batches, and per viewer', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'v', T0), join(s, 'w', T0)]);
      const comment = ev('comment', { text: 'hi' });
      const watch = ev('watch', { playing: true, engagedMs: 10_000 });
      const [r1] = await store.ingest([
        track(s, 'v', [comment, comment, ev('like', { count: 3 }), ev('product_view', { sku: 'A' }), ev('add_to_cart', { sku: 'A' }), ev('checkout', {}), watch], T0 + 10 * SECOND, T0),
      ]);
      expect(r1!.accepted.map((e) => e.type)).toEqual(['comment', 'like', 'product_view', 'add_to_cart', 'checkout', 'watch']);
      expect(r1!.duplicates).toBe(1);

      // the SDK's resend: nothing is counted twice, and a duplicate heartbeat credits nothing nor moves the credit base
      const [r2] = await store.ingest([track(s, 'v', [comment, watch, ev('comment', { text: 'again' })], T0 + 20 * SECOND, T0 + 10 * SECOND)]);
      expect(r2!.accepted.map((e) => e.type)).toEqual(['comment']);
      expect(r2).toMatchObject({ duplicates: 2, watchCredited: 0, lastCreditAt: T0 + 10 * SECOND });

      // another viewer's event with the same id is not a duplicate
      const [r3] = await store.ingest([track(s, 'w', [comment], T0 + 20 * SECOND)]);
      expect(r3).toMatchObject({ duplicates: 0 });
      expect(r3!.accepted).toHaveLength(1);
      expect(await store.countEvents(s.id)).toBe(8);

      const v = (await store.getViewer(s.channel, 'v'))!;
      expect(v).toMatchObject({ comments: 2, likes: 3, productViews: 1, addToCarts: 1, watchMs: 10_000, lastSeenAt: T0 + 20 * SECOND });
      expect(v.engWeighted).toBeGreaterThan(0);
      expect(await store.getViewerStream(s.id, 'v')).toEqual({
        streamId: s.id, viewerId: 'v', watchMs: 10_000, comments: 2, likes: 3, productViews: 1, addToCarts: 1, checkouts: 1, browserPurchases: 0,
        firstSeenAt: T0, lastSeenAt: T0 + 20 * SECOND,
      });
      expect(await store.getViewerStream(s.id, 'nobody')).toBeNull();
    });

    it("records offers seen and clicked by their own viewer, and delivered acknowledgements", async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'v'), join(s, 'w')]);
      const offer = await offerFor(store, s, 'v');
      const c = offer.campaign;
      expect(await store.campaignFunnel(s.id, c)).toEqual({ issued: 1, delivered: 0, seen: 0, clicked: 0, redeemed: 0 });

      // another viewer cannot mark it
      await store.ingest([track(s, 'w', [ev('offer_seen', { offerId: offer.id }), ev('offer_click', { offerId: offer.id })], T0 + 1)]);
      expect(await store.campaignFunnel(s.id, c)).toEqual({ issued: 1, delivered: 0, seen: 0, clicked: 0, redeemed: 0 });

      await store.ingest([track(s, 'v', [ev('offer_seen', { offerId: offer.id })], T0 + 2)]);
      expect(await store.campaignFunnel(s.id, c)).toEqual({ issued: 1, delivered: 1, seen: 1, clicked: 0, redeemed: 0 });
      await store.ingest([track(s, 'v', [ev('offer_click', { offerId: offer.id })], T0 + 3)]);
      expect(await store.campaignFunnel(s.id, c)).toEqual({ issued: 1, delivered: 1, seen: 1, clicked: 1, redeemed: 0 });
      const marked = (await store.offerByCode(offer.code))!;
      expect(marked).toMatchObject({ deliveredAt: T0 + 2, seenAt: T0 + 2, clickedAt: T0 + 3 });

      const second = await offerFor(store, s, 'w');
      expect((await store.pendingOffers(s.channel, 'w', T0 + 4)).map((o) => o.id)).toEqual([second.id]);
      await store.ingest([{ kind: 'delivered', offerId: second.id, now: T0 + 5 }]);
      expect((await store.offerByCode(second.code))!.deliveredAt).toBe(T0 + 5);
      // a repeated acknowledgement keeps the first time
      await store.ingest([{ kind: 'delivered', offerId: second.id, now: T0 + 9 }]);
      expect((await store.offerByCode(second.code))!.deliveredAt).toBe(T0 + 5);
      expect(await store.pendingOffers(s.channel, 'w', T0 + 6)).toEqual([]);
    });

    it('stores tiers and reasons (a job, or setTiers), keeping the lifecycle when none is given', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'a'), join(s, 'b')]);
      await store.ingest([{ kind: 'reasons', channel: s.channel, viewerId: 'a', tier: 'mid', explain: why('watched 12 min'), lifecycle: 'active' }]);
      expect(await store.getViewer(s.channel, 'a')).toMatchObject({ tier: 'mid', explain: why('watched 12 min'), lifecycle: 'active' });
      await store.ingest([{ kind: 'reasons', channel: s.channel, viewerId: 'a', tier: 'mid', explain: why('watched 13 min') }]);
      expect(await store.getViewer(s.channel, 'a')).toMatchObject({ tier: 'mid', explain: why('watched 13 min'), lifecycle: 'active' });

      await store.setTiers([
        { channel: s.channel, viewerId: 'a', tier: 'high', explain: why('spent ¥500'), lifecycle: 'active' },
        { channel: s.channel, viewerId: 'b', tier: 'potential', explain: [], lifecycle: 'at_risk' },
      ]);
      expect(await store.getViewer(s.channel, 'a')).toMatchObject({ tier: 'high', explain: why('spent ¥500') });
      expect(await store.getViewer(s.channel, 'b')).toMatchObject({ tier: 'potential', lifecycle: 'at_risk' });
    });

    it('commits a mixed batch in order, one result per job', async () => {
      const s = await newStream(store);
      const results = await store.ingest([
        join(s, 'v', T0),
        track(s, 'v', [ev('comment', { text: 'first' })], T0 + 1),
        { kind: 'reasons', channel: s.channel, viewerId: 'v', tier: 'mid', explain: why('commented') },
        join(s, 'v', T0 + 2),
      ]);
      expect(results).toHaveLength(4);
      expect(results[0]).toMatchObject({ firstTime: true });
      expect(results[1]!.accepted).toHaveLength(1);
      expect(results[3]).toMatchObject({ firstTime: false });
      expect(await store.getViewer(s.channel, 'v')).toMatchObject({ comments: 1, tier: 'mid' });
    });

    it("reads what a viewer's profile loads: recent checkouts, recent offers, the channel's viewers", async () => {
      const s = await newStream(store);
      const other = await newStream(store, s.channel);
      await store.ingest([join(s, 'v'), join(other, 'v'), join(s, 'w')]);
      await store.ingest([track(s, 'v', [ev('checkout', {})], T0 + 1)]);
      await store.ingest([track(other, 'v', [ev('checkout', {})], T0 + 2)]);
      await store.ingest([track(s, 'v', [ev('checkout', {})], T0 + 3)]);
      await store.ingest([track(s, 'w', [ev('checkout', {})], T0 + 4)]);
      expect(await store.recentCheckouts(s.channel, 'v', 2)).toEqual([T0 + 3, T0 + 2]);
      expect(await store.recentCheckouts(s.channel, 'v', 10)).toEqual([T0 + 3, T0 + 2, T0 + 1]);

      const o1 = await offerFor(store, s, 'v', T0);
      const o2 = await offerFor(store, s, 'v', T0 + 3 * MINUTE);
      await store.ingest([track(s, 'v', [ev('offer_click', { offerId: o1.id })], T0 + 4 * MINUTE)]);
      expect(await store.recentOffers(s.channel, 'v', 5)).toEqual([
        { id: o2.id, expiresAt: o2.expiresAt, engaged: false },
        { id: o1.id, expiresAt: o1.expiresAt, engaged: true },
      ]);
      expect(await store.recentOffers(s.channel, 'v', 1)).toHaveLength(1);
      expect((await store.channelViewerIds(s.channel)).sort()).toEqual(['v', 'w']);
    });
  });

  describe('listViewers', () => {
    async function fixture() {
      const s = await newStream(store);
      // a..e join in this order; d and e at the same time
      await store.ingest([join(s, 'a', T0), join(s, 'b', T0 + 1), join(s, 'c', T0 + 2), join(s, 'd', T0 + 3), join(s, 'e', T0 + 3)]);
      await store.ingest([
        track(s, 'a', [ev('comment', { text: 'x' }), ev('comment', { text: 'y' })], T0 + 3),
        track(s, 'b', [ev('like', { count: 2 })], T0 + 3),
        track(s, 'c', [ev('product_view', { sku: 'A' }), ev('add_to_cart', { sku: 'A' }), ev('checkout', {})], T0 + 3),
      ]);
      // a and b spend the same; c less; d and e nothing
      await store.recordPurchase(purchase(s, 'a', 5000, { at: T0 + 10 }));
      await store.recordPurchase(purchase(s, 'b', 3000, { at: T0 + 11 }));
      await store.recordPurchase(purchase(s, 'b', 2000, { at: T0 + 12 }));
      await store.recordPurchase(purchase(s, 'c', 100, { at: T0 + 13 }));
      await store.setTiers([
        { channel: s.channel, viewerId: 'a', tier: 'high', explain: [], lifecycle: 'active' },
        { channel: s.channel, viewerId: 'b', tier: 'mid', explain: [], lifecycle: 'active' },
      ]);
      return s;
    }

    const query = (s: Fixture, sort: ViewerSort, over: Partial<ListQuery> = {}): ListQuery => ({
      channel: s.channel, streamId: s.id, tier: null, lifecycle: null, sort, limit: 100, after: null, ...over,
    });

    it('orders each sort by its key (descending), then id, and pages through with the keyset cursor', async () => {
      const s = await fixture();
      for (const sort of ['recent', 'value', 'engagement'] as const) {
        const all = await store.listViewers(query(s, sort));
        expect(all).toHaveLength(5);
        expect(all.map((r) => r.id), sort).toEqual(listOrder(all));
        for (const r of all) {
          const vs = (await store.getViewerStream(s.id, r.id))!;
          const key = sort === 'recent' ? vs.lastSeenAt : sort === 'value' ? r.spend : r.engWeighted;
          expect(r.sortKey, `${sort} ${r.id}`).toBe(key);
        }
        const paged: string[] = [];
        let after: ListQuery['after'] = null;
        for (let page = 0; page < 10; page++) {
          const rows = await store.listViewers(query(s, sort, { limit: 2, after }));
          paged.push(...rows.map((r) => r.id));
          if (rows.length < 2) break;
          after = { key: rows[1]!.sortKey, id: rows[1]!.id };
        }
        expect(paged, sort).toEqual(all.map((r) => r.id));
      }
      // the ties break by id: a/b on value (5000), d/e on everything
      expect((await store.listViewers(query(s, 'value'))).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect((await store.listViewers(query(s, 'recent'))).map((r) => r.id).slice(0, 3)).toEqual(['a', 'b', 'c']);
    });

    it("carries the viewer, this stream's counters and the value columns; filters by tier and lifecycle", async () => {
      const s = await fixture();
      const rows = await store.listViewers(query(s, 'value'));
      const b = rows.find((r) => r.id === 'b')!;
      expect(b).toMatchObject({
        channel: s.channel, id: 'b', verified: true, tier: 'mid', lifecycle: 'active', likes: 2, orders: 2, spend: 5000, lastPurchaseAt: T0 + 12,
        thisStream: { watchMs: 0, comments: 0, likes: 2, productViews: 0, addToCarts: 0, checkouts: 0 },
      });
      expect(rows.find((r) => r.id === 'c')!.thisStream).toEqual({ watchMs: 0, comments: 0, likes: 0, productViews: 1, addToCarts: 1, checkouts: 1 });
      expect(rows.find((r) => r.id === 'd')).toMatchObject({ orders: 0, spend: 0, lastPurchaseAt: null, verified: false });

      expect((await store.listViewers(query(s, 'value', { tier: 'potential' }))).map((r) => r.id)).toEqual(['c', 'd', 'e']);
      expect((await store.listViewers(query(s, 'recent', { lifecycle: 'active' }))).map((r) => r.id)).toEqual(['a', 'b']);
      expect(await store.listViewers(query(s, 'recent', { tier: 'high', lifecycle: 'new' }))).toEqual([]);
    });
  });

  describe('campaigns', () => {
    it('ensures the defaults once, inserts, lists, updates', async () => {
      const s = await newStream(store);
      await store.ensureCampaigns(s.id, s.channel, DEFAULT_CAMPAIGNS, T0);
      await store.ensureCampaigns(s.id, s.channel, DEFAULT_CAMPAIGNS, T0 + 1);
      const defaults = await store.listCampaigns(s.id);
      expect(defaults.map((c) => c.id)).toEqual(DEFAULT_CAMPAIGNS.map((d) => d.id).sort());
      expect(defaults[0]).toMatchObject({
        streamId: s.id, channel: s.channel, status: 'active', adhoc: false, issued: 0, committed: 0,
        skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 }, createdAt: T0, updatedAt: T0,
      });

      const manual = uid('c');
      expect(await store.insertCampaign({ streamId: s.id, id: manual, channel: s.channel, doc: manualDoc(), now: T0 + 2 })).toBe(true);
      expect(await store.insertCampaign({ streamId: s.id, id: manual, channel: s.channel, doc: manualDoc({ name: 'again' }), now: T0 + 3 })).toBe(false);
      const push = `push:${uid('p')}`;
      await store.insertCampaign({ streamId: s.id, id: push, channel: s.channel, doc: manualDoc(), adhoc: true, now: T0 + 1 });
      const cart = uid('c');
      const cartDoc: CampaignDoc = { ...manualDoc(), trigger: { type: 'cart_abandoned', afterSeconds: 600 } };
      await store.insertCampaign({ streamId: s.id, id: cart, channel: s.channel, doc: cartDoc, status: 'paused', now: T0 + 4 });

      // ordered by adhoc, created_at, id
      expect((await store.listCampaigns(s.id)).map((c) => c.id)).toEqual([...defaults.map((c) => c.id), manual, cart, push]);
      expect((await store.listTriggered(s.id)).map((c) => c.id).sort()).toEqual([...DEFAULT_CAMPAIGNS.map((d) => d.id), cart].sort());
      expect(await store.getCampaign(s.id, manual)).toMatchObject({ id: manual, doc: manualDoc(), status: 'active', adhoc: false, createdAt: T0 + 2 });
      expect(await store.getCampaign(s.id, push)).toMatchObject({ adhoc: true });
      expect(await store.getCampaign(s.id, cart)).toMatchObject({ status: 'paused', doc: cartDoc });
      expect(await store.getCampaign(s.id, 'nope')).toBeNull();

      const edited = manualDoc({ name: 'Edited', limits: { maxIssued: 1 } });
      await store.updateCampaign(s.id, manual, edited, 'paused', T0 + 5);
      expect(await store.getCampaign(s.id, manual)).toMatchObject({ doc: edited, status: 'paused', createdAt: T0 + 2, updatedAt: T0 + 5 });
    });
  });

  describe('issueOffers', () => {
    it('issues: one offer per viewer with a fresh code, counted against the campaign', async () => {
      const s = await newStream(store);
      const c = await newCampaign(store, s);
      const rs = await store.issueOffers(request(s, c, ['a', 'b', 'c'], T0));
      expect(kinds(rs)).toEqual(['issue', 'issue', 'issue']);
      expect(rs.map((r) => r.viewerId)).toEqual(['a', 'b', 'c']);
      const codes = new Set<string>();
      for (const r of rs) {
        const o = r.offer!;
        expect(o).toMatchObject({
          channel: s.channel, streamId: s.id, viewerId: r.viewerId, campaign: c, title: '¥10 off', description: 'Today only',
          discountKind: 'amount', discountValue: 1000, minSpend: 5000, currency: 'CNY', createdAt: T0, expiresAt: T0 + 600 * SECOND,
          deliveredAt: null, seenAt: null, clickedAt: null, redeemedAt: null, redeemedOrder: null,
        });
        expect(o.code).toHaveLength(CODE_LENGTH);
        expect([...o.code].every((ch) => CODE_ALPHABET.includes(ch))).toBe(true);
        codes.add(o.code);
        expect(await store.offerByCode(o.code)).toEqual(o);
      }
      expect(codes.size).toBe(3);
      expect(await store.getCampaign(s.id, c)).toMatchObject({ issued: 3, committed: 3000 });
      expect(await store.campaignFunnel(s.id, c)).toMatchObject({ issued: 3 });
      expect((await store.pendingOffers(s.channel, 'a', T0 + 1)).map((o) => o.code)).toEqual([rs[0]!.offer!.code]);
      expect(await store.pendingOffers(s.channel, 'a', T0 + 600 * SECOND)).toEqual([]);
      expect(await store.campaignArms(s.id, c, s.channel, 3_600_000)).toEqual([{ arm: 'treatment', n: 3, conversions: 0 }]);
    });

    it('holds the control arm of a holdout: an assignment, no offer, no stock', async () => {
      const s = await newStream(store);
      const c = await newCampaign(store, s, manualDoc({ holdoutPercent: 50 }));
      const ids = Array.from({ length: 24 }, (_, i) => `v${i}`);
      const rs = await store.issueOffers(request(s, c, ids, T0));
      const expected = ids.map((v) => (armOf(s.id, c, v, 50) === 'control' ? 'hold' : 'issue'));
      expect(kinds(rs)).toEqual(expected);
      const held = expected.filter((k) => k === 'hold').length;
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(ids.length);
      for (const r of rs) expect(!!r.offer).toBe(r.decision!.kind === 'issue');
      expect(await store.getCampaign(s.id, c)).toMatchObject({ issued: ids.length - held, committed: (ids.length - held) * 1000 });
      const arms = (await store.campaignArms(s.id, c, s.channel, 3_600_000)).sort((x, y) => x.arm.localeCompare(y.arm));
      expect(arms).toEqual([
        { arm: 'control', n: held, conversions: 0 },
        { arm: 'treatment', n: ids.length - held, conversions: 0 },
      ]);
    });

    it('decides from the campaign as stored now: quota and budget are exact, skips are counted', async () => {
      const s = await newStream(store);
      const seen: CampaignRow[] = [];
      const quota = await newCampaign(store, s, manualDoc({ limits: { maxIssued: 2 } }));
      expect(kinds(await store.issueOffers(request(s, quota, ['a', 'b', 'c', 'd'], T0, { seen })))).toEqual(['issue', 'issue', 'skip', 'skip']);
      expect(seen.map((c) => c.issued)).toEqual([0, 1, 2, 2]);
      expect(seen.map((c) => c.skipped.quota)).toEqual([0, 0, 0, 1]);
      expect(await store.getCampaign(s.id, quota)).toMatchObject({ issued: 2, committed: 2000, skipped: { capped: 0, budget: 0, quota: 2, alreadyHas: 0 } });

      const budget = await newCampaign(store, s, manualDoc({ limits: { budget: 2500 } }));
      const rs = await store.issueOffers(request(s, budget, ['e', 'f', 'g', 'h'], T0));
      expect(rs.map((r) => r.decision)).toEqual([
        { kind: 'issue', value: 1000 }, { kind: 'issue', value: 1000 }, { kind: 'skip', reason: 'budget' }, { kind: 'skip', reason: 'budget' },
      ]);
      expect(await store.getCampaign(s.id, budget)).toMatchObject({ issued: 2, committed: 2000, skipped: { budget: 2 } });
    });

    it('holds the quota in the database whatever the decision said', async () => {
      const s = await newStream(store);
      const c = await newCampaign(store, s, manualDoc({ limits: { maxIssued: 1, budget: 1500 } }));
      const always = (): Decision => ({ kind: 'issue', value: 1000 });
      const rs = await store.issueOffers(request(s, c, ['a', 'b', 'c'], T0, { decide: always }));
      expect(rs.map((r) => r.decision)).toEqual([{ kind: 'issue', value: 1000 }, { kind: 'skip', reason: 'quota' }, { kind: 'skip', reason: 'quota' }]);
      expect(rs.map((r) => !!r.offer)).toEqual([true, false, false]);
      expect(await store.getCampaign(s.id, c)).toMatchObject({ issued: 1, committed: 1000, skipped: { quota: 2 } });

      // the columns follow an edit of the document's limits
      await store.updateCampaign(s.id, c, manualDoc({ limits: { maxIssued: 5, budget: 1500 } }), 'active', T0 + 1);
      expect(kinds(await store.issueOffers(request(s, c, ['d'], T0 + 2, { decide: always })))).toEqual(['skip']); // over budget
      await store.updateCampaign(s.id, c, manualDoc({ limits: { maxIssued: 5 } }), 'active', T0 + 3);
      expect(kinds(await store.issueOffers(request(s, c, ['d'], T0 + 4, { decide: always })))).toEqual(['issue']);
    });

    it('is exact when issues for one campaign run at once', async () => {
      const s = await newStream(store);
      const c = await newCampaign(store, s, manualDoc({ limits: { maxIssued: 5 } }));
      const batches = Array.from({ length: 4 }, (_, b) => [0, 1, 2].map((i) => `v${b}-${i}`));
      const rs = (await Promise.all(batches.map((ids) => store.issueOffers(request(s, c, ids, T0))))).flat();
      expect(kinds(rs).filter((k) => k === 'issue')).toHaveLength(5);
      expect(await store.getCampaign(s.id, c)).toMatchObject({ issued: 5, committed: 5000, skipped: { quota: 7 } });
      expect(await store.campaignFunnel(s.id, c)).toMatchObject({ issued: 5 });
    });

    it('limits offers per viewer per campaign, a viewer listed twice included', async () => {
      const s = await newStream(store);
      const once = await newCampaign(store, s);
      expect(kinds(await store.issueOffers(request(s, once, ['a', 'a'], T0)))).toEqual(['issue', 'skip']);
      // purchase-triggered offers skip the minimum interval, so only the per-viewer limit speaks
      const twice = await newCampaign(store, s, manualDoc({ trigger: { type: 'purchase' }, limits: { perViewer: 2 } }));
      expect(kinds(await store.issueOffers(request(s, twice, ['b', 'b', 'b'], T0)))).toEqual(['issue', 'issue', 'skip']);
      expect(await store.getCampaign(s.id, once)).toMatchObject({ issued: 1, skipped: { alreadyHas: 1 } });
      expect(await store.getCampaign(s.id, twice)).toMatchObject({ issued: 2, skipped: { alreadyHas: 1 } });
    });

    it('caps the frequency across campaigns of the stream', async () => {
      const s = await newStream(store);
      const a = await newCampaign(store, s);
      const b = await newCampaign(store, s);
      expect(kinds(await store.issueOffers(request(s, a, ['v'], T0)))).toEqual(['issue']);
      // within the minimum interval of an offer of another campaign
      const [early] = await store.issueOffers(request(s, b, ['v'], T0 + 10 * SECOND));
      expect(early!.decision).toEqual({ kind: 'skip', reason: 'capped' });
      expect(await store.getCampaign(s.id, b)).toMatchObject({ issued: 0, skipped: { capped: 1 } });
      expect(kinds(await store.issueOffers(request(s, b, ['v'], T0 + 121 * SECOND)))).toEqual(['issue']);
      // at most five per viewer and stream, whatever the interval
      for (let i = 0; i < 3; i++) {
        const c = await newCampaign(store, s);
        expect(kinds(await store.issueOffers(request(s, c, ['v'], T0 + (i + 2) * 200 * SECOND)))).toEqual(['issue']);
      }
      const sixth = await newCampaign(store, s);
      expect((await store.issueOffers(request(s, sixth, ['v'], T0 + 3600 * SECOND)))[0]!.decision).toEqual({ kind: 'skip', reason: 'capped' });
      // another stream of the channel has its own cap
      const other = await newStream(store, s.channel);
      expect(kinds(await store.issueOffers(request(other, await newCampaign(store, other), ['v'], T0 + 3600 * SECOND)))).toEqual(['issue']);
    });

    it('passes over viewers the decision leaves out, and every viewer of an unknown campaign', async () => {
      const s = await newStream(store);
      const c = await newCampaign(store, s, manualDoc({ audience: { tiers: ['high'] } }));
      const facts = (v: string): ViewerFacts => ({ tier: v === 'vip' ? 'high' : 'potential', lifecycle: 'active' });
      const rs = await store.issueOffers(request(s, c, ['x', 'vip', 'y'], T0, { facts }));
      expect(kinds(rs)).toEqual([null, 'issue', null]);
      expect(rs[0]).toEqual({ viewerId: 'x', decision: null });
      expect(await store.getCampaign(s.id, c)).toMatchObject({ issued: 1, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } });
      expect(await store.issueOffers(request(s, 'no-such-campaign', ['x', 'y'], T0))).toEqual([
        { viewerId: 'x', decision: null },
        { viewerId: 'y', decision: null },
      ]);
    });
  });

  describe('purchases and redemptions', () => {
    it('records a purchase once: the viewer (verified), their value; a repeat returns the first row', async () => {
      const s = await newStream(store);
      const p = purchase(s, 'buyer', 12_900, { at: T0 - MINUTE, createdAt: T0 });
      const r = await store.recordPurchase(p);
      expect(r).toEqual({ inserted: true, purchase: { ...p.purchase, refunded: 0 } });
      expect(await store.getPurchase(s.channel, p.purchase.orderId)).toEqual({ ...p.purchase, refunded: 0 });
      expect(await store.getViewer(s.channel, 'buyer')).toMatchObject({ verified: true, firstSeenAt: T0 - MINUTE });
      expect(await store.buyers(s.channel, T0 - 3600_000, T0)).toEqual([{ viewerId: 'buyer', orders: 1, spend: 12_900, lastAt: T0 - MINUTE }]);
      expect(await store.boughtHere(s.channel, s.id, 'buyer')).toBe(true);

      const again = await store.recordPurchase({ ...p, purchase: { ...p.purchase, amount: 1, createdAt: T0 + 5 }, now: T0 + 5 });
      expect(again).toEqual({ inserted: false, existing: { ...p.purchase, refunded: 0 } });
      expect(await store.buyers(s.channel, T0 - 3600_000, T0)).toEqual([{ viewerId: 'buyer', orders: 1, spend: 12_900, lastAt: T0 - MINUTE }]);
      expect(await store.getPurchase(s.channel, 'no-such-order')).toBeNull();
      expect(await store.getPurchase(uid('ch'), p.purchase.orderId)).toBeNull();
    });

    it('records many purchases in one transaction as one by one: an order id twice, several of a viewer, results in order', async () => {
      const s = await newStream(store);
      const a1 = purchase(s, 'ann', 1000, { at: T0 + 1 });
      const b1 = purchase(s, 'bob', 2000, { at: T0 + 2 });
      const a2 = purchase(s, 'ann', 3000, { at: T0 + 3 });
      const again = { ...a1, purchase: { ...a1.purchase, amount: 7 } };
      const rs = await store.recordPurchases([a1, b1, a2, again]);
      expect(rs).toEqual([
        { inserted: true, purchase: { ...a1.purchase, refunded: 0 } },
        { inserted: true, purchase: { ...b1.purchase, refunded: 0 } },
        { inserted: true, purchase: { ...a2.purchase, refunded: 0 } },
        { inserted: false, existing: { ...a1.purchase, refunded: 0 } },
      ]);
      // each viewer's value columns count all of theirs in the batch
      expect(await store.buyers(s.channel, T0 - MINUTE, T0 + MINUTE)).toEqual([
        { viewerId: 'ann', orders: 2, spend: 4000, lastAt: T0 + 3 },
        { viewerId: 'bob', orders: 1, spend: 2000, lastAt: T0 + 2 },
      ]);
      // the value columns the viewer list sorts by (of the stream's viewers: ann joins it)
      await store.ingest([{ kind: 'join', streamId: s.id, channel: s.channel, viewerId: 'ann', verified: true, now: T0 }]);
      const listed = await store.listViewers({ channel: s.channel, streamId: s.id, tier: null, lifecycle: null, sort: 'value', limit: 10, after: null });
      expect(listed.find((r) => r.id === 'ann')).toMatchObject({ orders: 2, spend: 4000, lastPurchaseAt: T0 + 3 });
      expect(await store.recordPurchases([])).toEqual([]);
    });

    it("lists a viewer's purchases oldest first, net of refunds; buyers within the window; where they bought", async () => {
      const s = await newStream(store);
      const other = await newStream(store, s.channel);
      const late = purchase(s, 'v', 3000, { at: T0 + 2 * MINUTE, currency: 'USD' });
      const early = purchase(other, 'v', 1000, { at: T0 + MINUTE });
      await store.recordPurchase(late);
      await store.recordPurchase(early);
      await store.refund(s.channel, late.purchase.orderId, 500);
      expect(await store.viewerPurchases(s.channel, 'v')).toEqual([
        { orderId: early.purchase.orderId, amount: 1000, at: T0 + MINUTE, currency: 'CNY' },
        { orderId: late.purchase.orderId, amount: 2500, at: T0 + 2 * MINUTE, currency: 'USD' },
      ]);
      expect(await store.buyers(s.channel, T0 + 90 * SECOND, T0 + 3 * MINUTE)).toEqual([{ viewerId: 'v', orders: 1, spend: 2500, lastAt: T0 + 2 * MINUTE }]);
      expect(await store.boughtHere(s.channel, other.id, 'v')).toBe(true);
      expect(await store.boughtHere(s.channel, s.id, 'someone-else')).toBe(false);
    });

    it('redeems the coupon a purchase carries, in the same transaction', async () => {
      const s = await newStream(store);
      const offer = await offerFor(store, s, 'buyer');
      const p = purchase(s, 'buyer', 9900, { couponCode: offer.code, createdAt: T0 + MINUTE });
      const r = await store.recordPurchase(p);
      expect(r).toMatchObject({ inserted: true, coupon: { status: 'redeemed', offer: { id: offer.id, redeemedAt: T0 + MINUTE, redeemedOrder: p.purchase.orderId } } });
      expect(await store.offerByCode(offer.code)).toMatchObject({ redeemedAt: T0 + MINUTE, redeemedOrder: p.purchase.orderId });
      expect(await store.campaignFunnel(s.id, offer.campaign)).toMatchObject({ redeemed: 1 });

      // another order with the same code: recorded, the code stays with the first order
      const second = await store.recordPurchase(purchase(s, 'buyer', 100, { couponCode: offer.code, createdAt: T0 + 2 * MINUTE }));
      expect(second).toMatchObject({ inserted: true, coupon: { status: 'already_redeemed' } });
      expect((await store.offerByCode(offer.code))!.redeemedOrder).toBe(p.purchase.orderId);
    });

    it("turns down another viewer's, an expired and an unknown coupon, still recording the purchase", async () => {
      const s = await newStream(store);
      const theirs = await offerFor(store, s, 'owner');
      const r1 = await store.recordPurchase(purchase(s, 'thief', 5000, { couponCode: theirs.code, createdAt: T0 + 1 }));
      expect(r1).toMatchObject({ inserted: true, coupon: { status: 'other_viewer' } });
      expect((await store.offerByCode(theirs.code))!.redeemedAt).toBeNull();

      const mine = await offerFor(store, s, 'late');
      const r2 = await store.recordPurchase(purchase(s, 'late', 5000, { couponCode: mine.code, createdAt: mine.expiresAt }));
      expect(r2).toMatchObject({ inserted: true, coupon: { status: 'expired' } });
      expect((await store.offerByCode(mine.code))!.redeemedAt).toBeNull();

      const r3 = await store.recordPurchase(purchase(s, 'late', 5000, { couponCode: 'NOSUCHCODE' }));
      expect(r3).toMatchObject({ inserted: true, coupon: { status: 'not_found' } });
      expect(await store.buyers(s.channel, 0, T0 + 3600_000)).toHaveLength(2);
    });

    it('a purchase whose order already redeemed its coupon is a redemption without change', async () => {
      const s = await newStream(store);
      const offer = await offerFor(store, s, 'v');
      const p = purchase(s, 'v', 5000, { couponCode: offer.code, createdAt: T0 + MINUTE });
      expect(await store.redeem(s.channel, offer.code, p.purchase.orderId, 'v', T0 + 30 * SECOND)).toMatchObject({ status: 'redeemed', now: true });
      const r = await store.recordPurchase(p);
      expect(r).toMatchObject({ inserted: true, coupon: { status: 'redeemed' } });
      expect(await store.offerByCode(offer.code)).toMatchObject({ redeemedAt: T0 + 30 * SECOND, redeemedOrder: p.purchase.orderId });
    });

    it('redeem: checks channel, owner and expiry; single use; an idempotent repeat by the same order', async () => {
      const s = await newStream(store);
      const offer = await offerFor(store, s, 'v');
      expect(await store.redeem(uid('ch'), offer.code, 'o1', 'v', T0 + 1)).toMatchObject({ status: 'not_found', message: expect.any(String) });
      expect(await store.redeem(s.channel, 'NOSUCHCODE', 'o1', 'v', T0 + 1)).toMatchObject({ status: 'not_found' });
      expect(await store.redeem(s.channel, offer.code, 'o1', 'w', T0 + 1)).toMatchObject({ status: 'other_viewer', message: expect.any(String) });
      expect(await store.redeem(s.channel, offer.code, 'o1', 'v', offer.expiresAt)).toMatchObject({ status: 'expired', message: expect.any(String) });

      const ok = await store.redeem(s.channel, offer.code, 'o1', 'v', T0 + 2);
      expect(ok).toEqual({ status: 'redeemed', now: true, offer: { ...offer, redeemedAt: T0 + 2, redeemedOrder: 'o1' } });
      expect(await store.redeem(s.channel, offer.code, 'o1', 'v', T0 + 3)).toEqual({ status: 'redeemed', now: false, offer: { ...offer, redeemedAt: T0 + 2, redeemedOrder: 'o1' } });
      expect(await store.redeem(s.channel, offer.code, 'o2', 'v', T0 + 4)).toMatchObject({ status: 'already_redeemed', message: expect.any(String) });
      // a redeemed offer is no longer pending, and counts as engaged
      expect(await store.pendingOffers(s.channel, 'v', T0 + 5)).toEqual([]);
      expect(await store.recentOffers(s.channel, 'v', 1)).toEqual([{ id: offer.id, expiresAt: offer.expiresAt, engaged: true }]);
    });

    it('redeem race: of two concurrent redemptions of one code exactly one takes it', async () => {
      const s = await newStream(store);
      const offer = await offerFor(store, s, 'v');
      const rs = await Promise.all([
        store.redeem(s.channel, offer.code, 'order-a', 'v', T0 + 1),
        store.redeem(s.channel, offer.code, 'order-b', 'v', T0 + 1),
      ]);
      expect(rs.filter((r) => r.status === 'redeemed' && r.now)).toHaveLength(1);
      expect(rs.filter((r) => r.status === 'already_redeemed')).toHaveLength(1);
      const winner = rs.find((r) => r.status === 'redeemed')!;
      expect((await store.offerByCode(offer.code))!.redeemedOrder).toBe(winner.status === 'redeemed' ? winner.offer.redeemedOrder : null);

      // the same order twice at once (a retried request): both succeed, one of them changed the row
      const again = await offerFor(store, s, 'w');
      const same = await Promise.all([
        store.redeem(s.channel, again.code, 'order-c', 'w', T0 + 2),
        store.redeem(s.channel, again.code, 'order-c', 'w', T0 + 2),
      ]);
      expect(same.map((r) => r.status)).toEqual(['redeemed', 'redeemed']);
      expect(same.filter((r) => r.status === 'redeemed' && r.now)).toHaveLength(1);
    });

    it("refund: sets the order's refunded total and the viewer's value", async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'v')]);
      const p = purchase(s, 'v', 1000);
      await store.recordPurchase(p);
      await store.refund(s.channel, p.purchase.orderId, 400);
      expect(await store.getPurchase(s.channel, p.purchase.orderId)).toMatchObject({ amount: 1000, refunded: 400 });
      expect(await store.buyers(s.channel, 0, T0)).toEqual([{ viewerId: 'v', orders: 1, spend: 600, lastAt: T0 }]);
      expect((await store.streamTotals(s.id)).gmv).toBe(600);
      const q: ListQuery = { channel: s.channel, streamId: s.id, tier: null, lifecycle: null, sort: 'value', limit: 10, after: null };
      expect((await store.listViewers(q))[0]).toMatchObject({ orders: 1, spend: 600, lastPurchaseAt: T0 });

      // fully refunded: no longer a buyer, no longer bought here
      await store.refund(s.channel, p.purchase.orderId, 1000);
      expect(await store.buyers(s.channel, 0, T0)).toEqual([]);
      expect(await store.boughtHere(s.channel, s.id, 'v')).toBe(false);
      expect(await store.viewerPurchases(s.channel, 'v')).toEqual([{ orderId: p.purchase.orderId, amount: 0, at: T0, currency: 'CNY' }]);
      expect((await store.listViewers(q))[0]).toMatchObject({ orders: 0, spend: 0, lastPurchaseAt: null });
      expect((await store.streamTotals(s.id)).gmv).toBe(0);
      // an unknown order changes nothing
      await expect(store.refund(s.channel, 'no-such-order', 1)).resolves.toBeUndefined();
    });
  });

  describe('alias, export and erasure', () => {
    it('alias: moves events and counters once, drops duplicates, follows offers', async () => {
      const s = await newStream(store);
      const anon = `anon:${uid('a')}`;
      const e1 = ev('comment', { text: 'hello' });
      await store.ingest([join(s, anon, T0), join(s, 'v', T0 + 5, true)]);
      await store.ingest([track(s, anon, [e1, ev('like', {}), ev('product_view', { sku: 'A' })], T0 + 10)]);
      // the browser resent e1 after identify(): the verified viewer has it already
      await store.ingest([track(s, 'v', [e1], T0 + 20)]);
      const offer = await offerFor(store, s, anon, T0 + 30);

      expect(await store.alias(s.channel, anon, 'v', T0 + 40)).toEqual({ merged: true, viewerId: 'v', events: 2 });
      expect(await store.countEvents(s.id)).toBe(3);
      expect(await store.getViewer(s.channel, anon)).toBeNull();
      expect(await store.getViewerStream(s.id, anon)).toBeNull();
      // e1 is stored once, so it counts once (its anonymous copy's share was taken back)
      expect(await store.getViewer(s.channel, 'v')).toMatchObject({ verified: true, comments: 1, likes: 1, productViews: 1, firstSeenAt: T0, lastSeenAt: T0 + 20 });
      expect(await store.getViewerStream(s.id, 'v')).toMatchObject({ comments: 1, likes: 1, productViews: 1, firstSeenAt: T0 });
      expect(await store.audience(s.id)).toBe(1);
      expect((await store.offerByCode(offer.code))!.viewerId).toBe('v');
      expect((await store.exportViewer(s.channel, 'v'))!.aliases).toHaveLength(1);

      // once per anonymous id
      expect(await store.alias(s.channel, anon, 'v', T0 + 50)).toEqual({ merged: false, viewerId: 'v', events: 0 });
      expect(await store.alias(s.channel, anon, 'someone-else', T0 + 60)).toEqual({ merged: false, viewerId: 'v', events: 0 });
      expect(await store.getViewer(s.channel, 'someone-else')).toBeNull();
    });

    it('alias never counts an event twice: counters after it equal a recount of the stored rows (random interleavings of two tabs, beacons and an identify)', async () => {
      const kinds = ['comment', 'like', 'product_view', 'add_to_cart', 'checkout', 'watch'] as const;
      const step = fc.record({
        who: fc.constantFrom('anon', 'verified'),
        // an event new to this batch, or one sent before (by either tab): the resend after identify(), a beacon
        events: fc.array(fc.record({ reuse: fc.nat(20), fresh: fc.boolean(), kind: fc.constantFrom(...kinds), count: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), fc.array(step, { maxLength: 3 }), async (before, after) => {
          const s = await newStream(store);
          const anon = `anon:${uid('a')}`;
          const into = uid('u');
          await store.ingest([join(s, anon, T0), join(s, into, T0, true)]);
          const sent: ValidEvent[] = [];
          let t = T0;
          const run = async (steps: typeof before, anonAllowed: boolean) => {
            for (const st of steps) {
              const events = st.events.map((e) => {
                if (!e.fresh && sent.length) return sent[e.reuse % sent.length]!;
                const data = e.kind === 'like' ? { count: e.count } : e.kind === 'watch' ? { playing: true, engagedMs: 10_000 } : e.kind === 'comment' ? { text: 'x' } : {};
                const x = ev(e.kind, data);
                sent.push(x);
                return x;
              });
              t += 10 * SECOND;
              await store.ingest([track(s, st.who === 'anon' && anonAllowed ? anon : into, events, t, t - 10 * SECOND)]);
            }
          };
          await run(before, true);
          await store.alias(s.channel, anon, into, t + 1);
          await run(after, false); // after identify() every tab sends as the verified viewer
          const rows = (await store.exportViewer(s.channel, into))!.events.map((e: any) => ({
            type: e.type, data: e.data ? JSON.stringify(e.data) : null, creditMs: e.credit_ms ?? e.creditMs ?? null, receivedAt: e.received_at ?? e.receivedAt,
          }));
          const recount = storedDeltas(rows);
          const v = (await store.getViewer(s.channel, into))!;
          const vs = (await store.getViewerStream(s.id, into))!;
          const counters = (x: { watchMs: number; comments: number; likes: number; productViews: number; addToCarts: number }) =>
            ({ watchMs: x.watchMs, comments: x.comments, likes: x.likes, productViews: x.productViews, addToCarts: x.addToCarts });
          expect(counters(v)).toEqual(counters(recount));
          expect({ ...counters(vs), checkouts: vs.checkouts }).toEqual({ ...counters(recount), checkouts: recount.checkouts });
          expect(Math.abs(v.engWeighted - recount.engWeighted)).toBeLessThanOrEqual(1e-9 * Math.max(1, recount.engWeighted));
        }),
        { numRuns: 25 },
      );
    }, 120_000);

    it("alias adds the anonymous viewer's weighted engagement to the verified viewer's (the tier model reads it)", async () => {
      const s = await newStream(store);
      const anon = `anon:${uid('a')}`;
      await store.ingest([join(s, anon, T0), join(s, 'v', T0, true)]);
      await store.ingest([track(s, anon, [ev('comment', { text: 'a' }), ev('add_to_cart', { sku: 'A' })], T0 + 1), track(s, 'v', [ev('like', {})], T0 + 1)]);
      const [a, v] = [(await store.getViewer(s.channel, anon))!, (await store.getViewer(s.channel, 'v'))!];
      expect(a.engWeighted).toBeGreaterThan(0);
      await store.alias(s.channel, anon, 'v', T0 + 2);
      // the weights are large (they grow with time, see tiering/state.ts): compare relatively
      const merged = (await store.getViewer(s.channel, 'v'))!.engWeighted;
      expect(Math.abs(merged - (a.engWeighted + v.engWeighted)) / merged).toBeLessThan(1e-12);
    });

    it('alias into a viewer without a row creates it, verified', async () => {
      const s = await newStream(store);
      const anon = `anon:${uid('a')}`;
      await store.ingest([join(s, anon, T0)]);
      await store.ingest([track(s, anon, [ev('comment', { text: 'a' }), ev('comment', { text: 'b' })], T0 + 1)]);
      expect(await store.alias(s.channel, anon, 'fresh', T0 + 2)).toEqual({ merged: true, viewerId: 'fresh', events: 2 });
      const fresh = (await store.getViewer(s.channel, 'fresh'))!;
      expect(fresh).toMatchObject({ verified: true, comments: 2, firstSeenAt: T0 });
      expect(fresh.engWeighted).toBeGreaterThan(0);
      expect(await store.getViewerStream(s.id, 'fresh')).toMatchObject({ comments: 2 });
    });

    it("exports everything stored about a viewer in the channel", async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'v')]);
      await store.ingest([track(s, 'v', [ev('comment', { text: 'hi' }), ev('like', {})], T0 + 1)]);
      const p = purchase(s, 'v', 2000);
      await store.recordPurchase(p);
      await offerFor(store, s, 'v');
      const x = (await store.exportViewer(s.channel, 'v'))!;
      expect(x.viewer).toMatchObject({ id: 'v', channel: s.channel });
      expect(x.streams).toHaveLength(1);
      expect(x.events).toHaveLength(2);
      expect(x.purchases).toHaveLength(1);
      expect(JSON.stringify(x.purchases)).toContain(p.purchase.orderId);
      expect(x.offers).toHaveLength(1);
      expect(x.aliases).toEqual([]);
      expect(await store.exportViewer(s.channel, 'nobody')).toBeNull();
      expect(await store.exportViewer(uid('ch'), 'v')).toBeNull();
    });

    it("erases a viewer's rows and events in the channel; their purchases and offers stay, under another id", async () => {
      const s = await newStream(store);
      const other = await newStream(store, s.channel);
      await store.ingest([join(s, 'v'), join(other, 'v'), join(s, 'w')]);
      await store.ingest([
        track(s, 'v', [ev('comment', { text: 'mine' })], T0 + 1),
        track(other, 'v', [ev('like', {})], T0 + 1),
        track(s, 'w', [ev('like', {})], T0 + 1),
      ]);
      const p = purchase(s, 'v', 4200, { items: [{ sku: 'SECRET', name: 'personal' }] });
      await store.recordPurchase(p);
      const offer = await offerFor(store, s, 'v');
      const erased = `erased:${uid('x')}`;

      expect(await store.eraseViewer(s.channel, 'v', erased)).toBe(true);
      expect(await store.getViewer(s.channel, 'v')).toBeNull();
      expect(await store.getViewerStream(s.id, 'v')).toBeNull();
      expect(await store.getViewerStream(other.id, 'v')).toBeNull();
      expect(await store.countEvents(s.id)).toBe(1);
      expect(await store.countEvents(other.id)).toBe(0);
      expect(await store.exportViewer(s.channel, 'v')).toBeNull();
      expect(await store.channelViewerIds(s.channel)).toEqual(['w']);
      expect(await store.getPurchase(s.channel, p.purchase.orderId)).toMatchObject({ viewerId: erased, amount: 4200, items: null });
      expect((await store.offerByCode(offer.code))!.viewerId).toBe(erased);
      expect(await store.streamTotals(s.id)).toMatchObject({ audience: 1, orders: 1, gmv: 4200 });
      expect(await store.getViewer(s.channel, 'w')).toMatchObject({ likes: 1 });

      expect(await store.eraseViewer(s.channel, 'v', `erased:${uid('x')}`)).toBe(false);
    });
  });

  describe('polls', () => {
    it('opening a poll closes the previous one; the open poll is offered until answered or closed', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'a'), join(s, 'b')]);
      expect(await store.latestPoll(s.id)).toBeNull();
      expect(await store.openPollFor(s.id, 'a', T0)).toBeNull();

      const p1 = { id: uid('p'), question: 'Like the colour?', scale: 5 as const, closesAt: T0 + MINUTE };
      await store.openPoll(s.id, p1, T0);
      expect(await store.latestPoll(s.id)).toEqual({ ...p1, openedAt: T0 });
      expect(await store.openPollFor(s.id, 'a', T0 + 1)).toEqual(p1);

      const p2 = { id: uid('p'), question: 'Size?', scale: 5 as const, closesAt: T0 + 2 * MINUTE };
      await store.openPoll(s.id, p2, T0 + 10 * SECOND);
      expect(await store.polls(s.id)).toEqual([
        { ...p1, closesAt: T0 + 10 * SECOND, openedAt: T0 },
        { ...p2, openedAt: T0 + 10 * SECOND },
      ]);
      expect(await store.latestPoll(s.id)).toEqual({ ...p2, openedAt: T0 + 10 * SECOND });

      await store.ingest([track(s, 'a', [ev('poll_answer', { pollId: p2.id, value: 4 })], T0 + 20 * SECOND)]);
      expect(await store.openPollFor(s.id, 'a', T0 + 21 * SECOND)).toBeNull();
      expect(await store.openPollFor(s.id, 'b', T0 + 21 * SECOND)).toEqual(p2);
      expect(await store.openPollFor(s.id, 'b', p2.closesAt)).toBeNull();
    });

    it("counts one answer per viewer, the latest before the poll closed", async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'a'), join(s, 'b'), join(s, 'c'), join(s, 'd')]);
      const p = { id: uid('p'), question: 'Rate it', scale: 5 as const, closesAt: T0 + MINUTE };
      await store.openPoll(s.id, p, T0);
      const answer = (value: number) => ev('poll_answer', { pollId: p.id, value });
      await store.ingest([track(s, 'a', [answer(2)], T0 + 1)]);
      await store.ingest([track(s, 'a', [answer(4)], T0 + 2), track(s, 'b', [answer(5)], T0 + 2)]);
      await store.ingest([track(s, 'c', [answer(1), answer(3)], T0 + 3)]);
      await store.ingest([track(s, 'd', [answer(1)], T0 + 2 * MINUTE)]); // after the close
      await store.ingest([track(s, 'b', [ev('poll_answer', { pollId: 'another-poll', value: 1 })], T0 + 4)]);
      expect(await store.pollCounts(s.id, p.id, p.closesAt)).toEqual([0, 0, 1, 1, 1]);
      expect(await store.pollCounts(s.id, 'another-poll', p.closesAt)).toEqual([1, 0, 0, 0, 0]);
    });
  });

  describe('the dashboard and reports', () => {
    it('funnel: unique viewers per step, in all and by tier', async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'p1'), join(s, 'p2'), join(s, 'm1'), join(s, 'h1')]);
      await store.ingest([
        track(s, 'p1', [ev('product_view', { sku: 'A' }), ev('product_view', { sku: 'B' }), ev('add_to_cart', { sku: 'A' }), ev('checkout', {})], T0 + 1),
        track(s, 'm1', [ev('product_view', { sku: 'A' })], T0 + 1),
      ]);
      await store.recordPurchase(purchase(s, 'p1', 1000));
      await store.recordPurchase(purchase(s, 'p1', 2000));
      // h1 buys with no tracked step before: reaches every step (no rate above 100%), and is said to
      await store.recordPurchase(purchase(s, 'h1', 500));
      await store.setTiers([
        { channel: s.channel, viewerId: 'm1', tier: 'mid', explain: [] },
        { channel: s.channel, viewerId: 'h1', tier: 'high', explain: [] },
      ]);
      expect(await store.funnel(s.channel, s.id)).toEqual({
        total: { viewers: 4, productViews: 3, addToCarts: 2, checkouts: 2, purchases: 2, boughtWithoutCheckout: 1 },
        byTier: {
          potential: { viewers: 2, productViews: 1, addToCarts: 1, checkouts: 1, purchases: 1, boughtWithoutCheckout: 0 },
          mid: { viewers: 1, productViews: 1, addToCarts: 0, checkouts: 0, purchases: 0, boughtWithoutCheckout: 0 },
          high: { viewers: 1, productViews: 1, addToCarts: 1, checkouts: 1, purchases: 1, boughtWithoutCheckout: 1 },
        },
      });
      const empty = await newStream(store);
      expect((await store.funnel(empty.channel, empty.id)).total).toEqual({ viewers: 0, productViews: 0, addToCarts: 0, checkouts: 0, purchases: 0, boughtWithoutCheckout: 0 });
    });

    it("streamTotals: the audience, orders, GMV net of refunds and the offers' counts", async () => {
      const s = await newStream(store);
      expect(await store.streamTotals(s.id)).toEqual({ audience: 0, orders: 0, gmv: 0, offers: { issued: 0, delivered: 0, redeemed: 0 } });
      await store.ingest([join(s, 'a'), join(s, 'b'), join(s, 'a', T0 + 1)]);
      const o1 = await offerFor(store, s, 'a');
      await offerFor(store, s, 'b');
      await store.ingest([{ kind: 'delivered', offerId: o1.id, now: T0 + 2 }]);
      const p = purchase(s, 'a', 3000, { couponCode: o1.code, createdAt: T0 + 3 });
      await store.recordPurchase(p);
      await store.recordPurchase(purchase(s, 'c', 500));
      await store.refund(s.channel, p.purchase.orderId, 1000);
      expect(await store.streamTotals(s.id)).toEqual({ audience: 2, orders: 2, gmv: 2500, offers: { issued: 2, delivered: 1, redeemed: 1 } });
      expect(await store.countEvents(s.id)).toBe(0);
    });

    it("campaignCounts: each campaign's offers through the funnel, in order of first issue", async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'a'), join(s, 'b'), join(s, 'c')]);
      const first = await newCampaign(store, s, manualDoc({ offer: { ...manualDoc().offer, title: 'First' } }));
      const second = await newCampaign(store, s, manualDoc({ offer: { ...manualDoc().offer, title: 'Second' } }));
      await store.issueOffers(request(s, second, ['c'], T0 + MINUTE));
      const [ra] = await store.issueOffers(request(s, first, ['a', 'b'], T0));
      const oa = ra!.offer!;
      await store.ingest([track(s, 'a', [ev('offer_click', { offerId: oa.id })], T0 + 2 * MINUTE)]);
      await store.redeem(s.channel, oa.code, 'order-1', 'a', T0 + 3 * MINUTE);
      expect(await store.campaignCounts(s.id)).toEqual([
        { campaign: first, title: 'First', issued: 2, delivered: 1, seen: 1, clicked: 1, redeemed: 1 },
        { campaign: second, title: 'Second', issued: 1, delivered: 0, seen: 0, clicked: 0, redeemed: 0 },
      ]);
    });

    it('campaignArms: conversions by code (any time) and by purchase within the window after assignment', async () => {
      const s = await newStream(store);
      const c = await newCampaign(store, s, manualDoc({ holdoutPercent: 50 }));
      const ids = Array.from({ length: 40 }, (_, i) => `v${i}`);
      const control = ids.filter((v) => armOf(s.id, c, v, 50) === 'control').slice(0, 3);
      const treated = ids.filter((v) => armOf(s.id, c, v, 50) === 'treatment').slice(0, 3);
      const rs = await store.issueOffers(request(s, c, [...control, ...treated], T0));
      const window = 3_600_000;
      // control[0] buys within the window, control[1] after it, control[2] not at all
      await store.recordPurchase(purchase(s, control[0]!, 1000, { at: T0 + MINUTE }));
      await store.recordPurchase(purchase(s, control[1]!, 1000, { at: T0 + window + MINUTE }));
      // treated[0] uses their code (days later still counts), treated[1] buys without it within the window
      const code = rs.find((r) => r.viewerId === treated[0])!.offer!.code;
      await store.recordPurchase(purchase(s, treated[0]!, 1000, { at: T0 + 3 * window, couponCode: code, createdAt: T0 + MINUTE }));
      await store.recordPurchase(purchase(s, treated[1]!, 1000, { at: T0 + 2 * MINUTE }));
      const arms = (await store.campaignArms(s.id, c, s.channel, window)).sort((x, y) => x.arm.localeCompare(y.arm));
      expect(arms).toEqual([
        { arm: 'control', n: 3, conversions: 1 },
        { arm: 'treatment', n: 3, conversions: 2 },
      ]);
    });

    it('topBuyers: by spend, then viewer id', async () => {
      const s = await newStream(store);
      await store.recordPurchase(purchase(s, 'ann', 3000));
      await store.recordPurchase(purchase(s, 'ann', 1000));
      await store.recordPurchase(purchase(s, 'bob', 5000));
      await store.recordPurchase(purchase(s, 'dan', 1000));
      await store.recordPurchase(purchase(s, 'cat', 1000));
      const elsewhere = await newStream(store, s.channel);
      await store.recordPurchase(purchase(elsewhere, 'eve', 99_000));
      expect(await store.topBuyers(s.id, 3)).toEqual([
        { viewerId: 'bob', orders: 1, spend: 5000 },
        { viewerId: 'ann', orders: 2, spend: 4000 },
        { viewerId: 'cat', orders: 1, spend: 1000 },
      ]);
      expect(await store.topBuyers(s.id, 10)).toHaveLength(4);
    });

    it('csvRows: every viewer in order of arrival, over several pages, the connection free between them', async () => {
      const s = await newStream(store);
      const n = 2345;
      const ids = Array.from({ length: n }, (_, i) => `viewer-${((i * 7919) % n).toString().padStart(5, '0')}`);
      // three viewers arrive per millisecond: the order's ties are broken by id
      await store.ingest(ids.map((id, i) => join(s, id, T0 + Math.floor(i / 3))));
      await store.ingest([track(s, ids[5]!, [ev('comment', { text: 'hi' }), ev('checkout', {})], T0 + 10 * SECOND)]);
      await store.recordPurchase(purchase(s, ids[5]!, 1500, { at: T0 + 15 * SECOND, createdAt: T0 + 15 * SECOND }));
      const expected = ids.map((id, i) => ({ id, at: T0 + Math.floor(i / 3) })).sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).map((r) => r.id);

      const rows: string[] = [];
      for await (const r of store.csvRows(s.channel, s.id)) {
        rows.push(r.id);
        if (rows.length === 1 || rows.length === 1500) {
          // a write in the middle of the export: no statement is left open across the await
          await store.setRules(s.channel, { at: rows.length }, T0);
          await store.ingest([track(s, ids[0]!, [ev('like', {})], T0 + 20 * SECOND)]);
        }
      }
      expect(rows).toEqual(expected);

      const five = (await collect(store.csvRows(s.channel, s.id))).find((r) => r.id === ids[5])!;
      expect(five).toEqual({
        id: ids[5], tier: 'potential', lifecycle: 'new', verified: true, watchMs: 0, comments: 1, likes: 0, productViews: 0, addToCarts: 0,
        firstSeenAt: T0 + 1, lastSeenAt: T0 + 10 * SECOND, purchases: 1, spend: 1500, lastPurchaseAt: T0 + 15 * SECOND,
        streamWatchMs: 0, streamComments: 1, streamProductViews: 0, streamAddToCarts: 0, streamCheckouts: 1, streamPurchases: 1, streamSpend: 1500,
        pAlive: null, clv365d: null, // no model fitted
      });
      expect(await collect(store.csvRows(s.channel, (await newStream(store)).id))).toEqual([]);
    }, 120_000);

  });

  describe("the host's live history", () => {
    const point = (t: number, connected: number) => ({ t, connected, high: 0, mid: 0, potential: connected });
    const line = (n: number, viewerId = 'v') => ({ key: `${T0 + n}-p-${n}`, item: { id: n, at: T0 + n, viewerId, type: 'comment' as const, text: `line ${n}` } });

    it('upserts trend points by time, keeps the newest activity lines, reads both back oldest first', async () => {
      const s = await newStream(store);
      expect(await store.hostHistory(s.id, 10)).toEqual({ points: [], items: [] });
      await store.saveHostHistory(s.id, { points: [point(T0, 1), point(T0 + 5000, 2)], items: [line(1), line(2), line(3)] }, 4);
      // the last bucket revised, a new one, more lines than are kept; a line saved twice counts once
      await store.saveHostHistory(s.id, { points: [point(T0 + 5000, 3), point(T0 + 10_000, 4)], items: [line(3), line(4), line(5)] }, 4);
      const h = await store.hostHistory(s.id, 10);
      expect(h.points).toEqual([point(T0, 1), point(T0 + 5000, 3), point(T0 + 10_000, 4)]);
      expect(h.items.map((x) => (x.item.type === 'comment' ? x.item.text : x.item.type))).toEqual(['line 2', 'line 3', 'line 4', 'line 5']);
      expect((await store.hostHistory(s.id, 2)).items.map((x) => x.key)).toEqual([line(4).key, line(5).key]);
      // other streams are untouched
      expect(await store.hostHistory((await newStream(store, s.channel)).id, 10)).toEqual({ points: [], items: [] });
    });

    it("erasing a viewer deletes their activity lines", async () => {
      const s = await newStream(store);
      await store.ingest([join(s, 'gone'), join(s, 'stays')]);
      await store.saveHostHistory(s.id, { points: [], items: [line(1, 'gone'), line(2, 'stays')] }, 10);
      expect(await store.eraseViewer(s.channel, 'gone', 'erased-2')).toBe(true);
      expect((await store.hostHistory(s.id, 10)).items.map((x) => x.item.viewerId)).toEqual(['stays']);
    });
  });

  describe('predictive models (one store of its own: the channels due are all of it)', () => {
    let own: Store;
    beforeAll(async () => {
      own = await h.open();
    }, 60_000);
    const model = (fittedAt: number, over: Partial<ChannelModel> = {}): ChannelModel => ({
      status: 'fitted', fittedAt, buyers: 250, repeatBuyers: 60, bgnbd: { r: 0.24, alpha: 4.4, a: 0.79, b: 2.4, logLikelihood: -9582.4 },
      gammaGamma: { p: 6.25, q: 3.74, v: 15.44 }, meanOrderValue: 3500, minBuyers: 200, fitMs: 12.5, ...over,
    });

    it("a channel's purchases net of refunds are the fit's input; one process at a time holds the fit's lease", async () => {
      const s = await newStream(own);
      const quiet = await newStream(own); // no purchase: never due
      await own.recordPurchase(purchase(s, 'a', 5000, { orderId: 'm-1', at: T0 - DAY }));
      await own.recordPurchase(purchase(s, 'a', 3000, { orderId: 'm-2', at: T0 }));
      await own.recordPurchase(purchase(s, 'b', 2000, { orderId: 'm-3', at: T0 }));
      await own.recordPurchase(purchase(s, 'c', 9000, { orderId: 'm-4', at: T0 + DAY })); // after `now`
      await own.refund(s.channel, 'm-1', 1000);
      await own.refund(s.channel, 'm-3', 2000); // all of it: no purchase
      const input = await own.channelPurchases(s.channel, T0);
      expect(input.sort((x, y) => x.amount - y.amount)).toEqual([{ viewerId: 'a', amount: 3000, at: T0, skus: ['TEE-1'] }, { viewerId: 'a', amount: 4000, at: T0 - DAY, skus: ['TEE-1'] }]);

      expect(await own.getModel(s.channel, T0)).toEqual({ model: null, fittingUntil: null });
      expect(await own.modelsDue(T0, T0, 100)).toContain(s.channel);
      expect(await own.modelsDue(T0, T0, 100)).not.toContain(quiet.channel);
      const [mine, theirs] = await Promise.all([own.claimModelFit(s.channel, T0, T0 + MINUTE), own.claimModelFit(s.channel, T0, T0 + MINUTE)]);
      expect([mine, theirs].sort()).toEqual([false, true]); // of two at once, one
      expect(await own.getModel(s.channel, T0 + 1)).toEqual({ model: null, fittingUntil: T0 + MINUTE });
      expect(await own.modelsDue(T0, T0 + 1, 100)).not.toContain(s.channel); // being fitted
      expect(await own.claimModelFit(s.channel, T0 + MINUTE - 1, T0 + 2 * MINUTE)).toBe(false);
      // the holder died: its lease ends, another takes the fit
      expect(await own.claimModelFit(s.channel, T0 + MINUTE, T0 + 2 * MINUTE)).toBe(true);
      await own.saveModel(s.channel, model(T0 + MINUTE));
      expect(await own.getModel(s.channel, T0 + MINUTE)).toEqual({ model: model(T0 + MINUTE), fittingUntil: null });
      expect(await own.modelsDue(T0 + MINUTE, T0 + MINUTE, 100)).not.toContain(s.channel); // fresh
      expect(await own.modelsDue(T0 + 2 * MINUTE, T0 + 2 * MINUTE, 100)).toContain(s.channel); // stale
      // a failed fit lets go of the lease and keeps the last model
      expect(await own.claimModelFit(s.channel, T0 + 2 * MINUTE, T0 + 3 * MINUTE)).toBe(true);
      await own.releaseModelFit(s.channel);
      expect(await own.getModel(s.channel, T0 + 2 * MINUTE)).toEqual({ model: model(T0 + MINUTE), fittingUntil: null });
      // each buyer's prediction beside the viewer, replaced at each fit (a viewer left out is cleared)
      const stored = async (id: string) => {
        const v = (await own.exportViewer(s.channel, id))!.viewer as Record<string, unknown>;
        return [v.p_alive === null ? null : Number(v.p_alive), v.clv_365d === null ? null : Number(v.clv_365d)];
      };
      await own.saveModel(s.channel, model(T0 + 2 * MINUTE), [{ viewerId: 'a', pAlive: 0.75, clv365d: 12_000 }, { viewerId: 'b', pAlive: 0.5, clv365d: 3_000 }]);
      expect([await stored('a'), await stored('b')]).toEqual([[0.75, 12_000], [0.5, 3_000]]);
      await own.saveModel(s.channel, model(T0 + 3 * MINUTE, { status: 'insufficient_data', bgnbd: null, gammaGamma: null }), []);
      expect((await own.getModel(s.channel, T0 + 3 * MINUTE)).model).toMatchObject({ status: 'insufficient_data', fittedAt: T0 + 3 * MINUTE });
      expect([await stored('a'), await stored('b')]).toEqual([[null, null], [null, null]]);
    });
  });

  describe('due work (one store of its own: claims see every job in it)', () => {
    let own: Store;
    beforeAll(async () => {
      own = await h.open();
    }, 60_000);

    const CART = { cartDelayMs: 10 * MINUTE };
    const add = (id?: string) => ev('add_to_cart', { sku: 'A' }, id);
    const armed = (t: IngestJob, triggers: object) => ({ ...t, triggers }) as IngestJob;
    /** claims everything due at `now` (30 s leases) and returns the claimed ids */
    const claim = async (now: number) => (await own.claimJobs(now, 100, 30 * SECOND)).map((j) => j.id);

    it("a track arms the viewer's cart job; the next add_to_cart re-arms it, a resent one does not; claims hold a lease", async () => {
      const s = await newStream(own);
      await own.ingest([join(s, 'a')]);
      const first = add();
      await own.ingest([armed(track(s, 'a', [first], T0 + 1), CART)]);
      expect(await claim(T0 + 1 + 10 * MINUTE - 1)).toEqual([]);
      const [job] = await own.claimJobs(T0 + 1 + 10 * MINUTE, 100, 30 * SECOND);
      expect(job).toEqual({
        id: expect.stringMatching(/^cart\//), kind: 'cart', channel: s.channel, streamId: s.id, viewerId: 'a', payload: {},
        runAt: T0 + 1 + 10 * MINUTE, armedAt: T0 + 1, attempts: 1,
      });
      // held by that claim until the lease ends, then claimed again
      expect(await claim(T0 + 1 + 10 * MINUTE + 29 * SECOND)).toEqual([]);
      expect((await own.claimJobs(T0 + 1 + 11 * MINUTE, 100, 30 * SECOND)).map((j) => j.attempts)).toEqual([2]);

      // the SDK resends the same event: a duplicate arms nothing; a new add_to_cart re-arms (and frees) the job
      await own.ingest([armed(track(s, 'a', [first], T0 + 2 * MINUTE), CART)]);
      await own.ingest([armed(track(s, 'a', [add()], T0 + 20 * MINUTE), CART)]);
      // the run that held the old instance finishes it by its armed time: the new one stays
      await own.finishJob(job!.id, T0 + 1);
      expect(await claim(T0 + 30 * MINUTE - 1)).toEqual([]);
      const [again] = await own.claimJobs(T0 + 30 * MINUTE, 100, 30 * SECOND);
      expect(again).toMatchObject({ id: job!.id, armedAt: T0 + 20 * MINUTE, attempts: 1 });
      // a retry releases it for later; finishing it by its armed time deletes it
      await own.retryJob(again!.id, again!.armedAt, T0 + 40 * MINUTE);
      expect(await claim(T0 + 40 * MINUTE - 1)).toEqual([]);
      expect(await claim(T0 + 40 * MINUTE)).toEqual([job!.id]);
      await own.finishJob(job!.id, again!.armedAt);
      expect(await claim(T0 + 50 * MINUTE)).toEqual([]);
    });

    it('finishJobs deletes many jobs in one call, each only at its armed time', async () => {
      const s = await newStream(own);
      await own.ingest(['f1', 'f2', 'f3'].map((v) => join(s, v)));
      for (const v of ['f1', 'f2', 'f3']) await own.ingest([armed(track(s, v, [add()], T0 + 1), CART)]);
      const jobs = await own.claimJobs(T0 + 1 + 10 * MINUTE, 100, 30 * SECOND);
      const mine = jobs.filter((j) => j.streamId === s.id);
      expect(mine.map((j) => j.viewerId).sort()).toEqual(['f1', 'f2', 'f3']);
      // f3's is finished by a stale armed time: it stays
      await own.finishJobs(mine.map((j) => ({ id: j.id, armedAt: j.viewerId === 'f3' ? j.armedAt - 1 : j.armedAt })));
      await own.finishJobs([]);
      const left = (await own.claimJobs(T0 + 1 + 20 * MINUTE, 100, 30 * SECOND)).filter((j) => j.streamId === s.id);
      expect(left.map((j) => j.viewerId)).toEqual(['f3']);
    });

    it("a purchase closes the cart: the viewer's own client's event, or a verified purchase; no campaign, no job", async () => {
      const s = await newStream(own);
      await own.ingest(['b', 'c', 'd', 'e'].map((v) => join(s, v)));
      await own.ingest(['b', 'c', 'e'].map((v) => armed(track(s, v, [add()], T0 + 1), CART)));
      await own.ingest([track(s, 'd', [add()], T0 + 1)]); // a stream without a cart campaign
      await own.ingest([armed(track(s, 'b', [ev('purchase', { orderId: 'x', amount: 100, currency: 'CNY' })], T0 + 5), CART)]);
      await own.recordPurchase(purchase(s, 'c', 100, { createdAt: T0 + 5 }));
      // one batch: a purchase, then another add_to_cart: the cart is open again
      await own.ingest([armed(track(s, 'e', [ev('purchase', { orderId: 'y', amount: 100, currency: 'CNY' }), add()], T0 + 6), CART)]);
      const due = await own.claimJobs(T0 + HOUR, 100, 30 * SECOND);
      expect(due.filter((j) => j.streamId === s.id).map((j) => [j.viewerId, j.armedAt])).toEqual([['e', T0 + 6]]);
    });

    it('a credit that crosses a watch milestone creates one watch job, claimed by the committer; the next credit does not', async () => {
      const s = await newStream(own);
      await own.ingest([join(s, 'w')]);
      const WATCH = { milestonesMs: [30 * SECOND] };
      // a heartbeat every 10 s, each credited 10 s on the server's clock
      const beat = async (n: number) =>
        (await own.ingest([armed(track(s, 'w', [ev('watch', { playing: true, engagedMs: 10_000 })], T0 + n * 10 * SECOND, T0 + (n - 1) * 10 * SECOND), WATCH)]))[0]!;
      expect((await beat(1)).due ?? []).toEqual([]);
      expect((await beat(2)).due ?? []).toEqual([]);
      const b = await beat(3);
      expect(b.streamWatchMs).toBe(30_000);
      expect(b.due).toEqual([{
        id: expect.stringMatching(/^watch\//), kind: 'watch', channel: s.channel, streamId: s.id, viewerId: 'w',
        payload: { beforeMs: 20_000, afterMs: 30_000 }, runAt: T0 + 30 * SECOND, armedAt: T0 + 30 * SECOND, attempts: 1,
      }]);
      expect((await beat(4)).due ?? []).toEqual([]);
      // the committer holds it; after its lease any process may claim it
      expect(await claim(T0 + 30 * SECOND + JOB_LEASE_MS - 1)).toEqual([]);
      expect(await claim(T0 + 30 * SECOND + JOB_LEASE_MS)).toEqual([b.due![0]!.id]);
      await own.finishJob(b.due![0]!.id, b.due![0]!.armedAt);
    });

    it('a purchase with an outbox writes its job with it, claimed by the caller; a repeated order writes none', async () => {
      const s = await newStream(own);
      const rec = { ...purchase(s, 'p', 2500), outbox: { fromTier: 'potential', skus: ['TEE-1'] } };
      const r = await own.recordPurchase(rec);
      expect(r.inserted && r.job).toEqual({
        id: expect.stringMatching(/^purchase\//), kind: 'purchase', channel: s.channel, streamId: s.id, viewerId: 'p',
        payload: { fromTier: 'potential', skus: ['TEE-1'], orderId: rec.purchase.orderId }, runAt: T0, armedAt: T0, attempts: 1,
      });
      const again = await own.recordPurchase(rec);
      expect(again.inserted).toBe(false);
      expect(await claim(T0 + JOB_LEASE_MS - 1)).toEqual([]);
      expect(await claim(T0 + JOB_LEASE_MS)).toEqual([r.inserted && r.job!.id]);
      await own.finishJob(r.inserted ? r.job!.id : '', T0);
    });

    it("an effect key issues a campaign once; another key issues again; pruned keys are forgotten", async () => {
      const s = await newStream(own);
      const c = await newCampaign(own, s, manualDoc({ limits: { perViewer: 5 } }));
      expect(kinds(await own.issueOffers({ ...request(s, c, ['v'], T0), once: 'job-1@1' }))).toEqual(['issue']);
      expect(kinds(await own.issueOffers({ ...request(s, c, ['v'], T0 + 1), once: 'job-1@1' }))).toEqual([null]);
      expect(kinds(await own.issueOffers({ ...request(s, c, ['v'], T0 + 3 * MINUTE), once: 'job-1@2' }))).toEqual(['issue']);
      // the same key on another campaign is another effect
      const d = await newCampaign(own, s, manualDoc());
      expect(kinds(await own.issueOffers({ ...request(s, d, ['v'], T0 + 6 * MINUTE), once: 'job-1@1' }))).toEqual(['issue']);
      expect((await own.getCampaign(s.id, c))!.issued).toBe(2);
      expect(await own.pruneJobEffects(T0 + 3 * MINUTE)).toBe(1); // job-1@1 on c, recorded at T0
      expect(kinds(await own.issueOffers({ ...request(s, c, ['v'], T0 + 9 * MINUTE), once: 'job-1@1' }))).toEqual(['issue']);
    });

    it("erasing a viewer deletes their jobs", async () => {
      const s = await newStream(own);
      await own.ingest([join(s, 'gone')]);
      await own.ingest([armed(track(s, 'gone', [add()], T0 + 1), CART)]);
      expect(await own.eraseViewer(s.channel, 'gone', 'erased-1')).toBe(true);
      expect((await own.claimJobs(T0 + DAY, 100, 30 * SECOND)).filter((j) => j.streamId === s.id)).toEqual([]);
    });
  });

  describe('webhooks and the end of streams (one store of its own: claims see every delivery in it)', () => {
    let own: Store;
    beforeAll(async () => {
      own = await h.open();
    }, 60_000);

    const endpoint = (channel: string, events: string[], over: Partial<WebhookRow> = {}): WebhookRow => ({
      id: uid('wh'), channel, url: 'https://crm.shop.example/hook', events, description: null, secret: 'whsec_c2VjcmV0',
      enabled: true, disabledReason: null, failingSince: null, createdAt: T0, updatedAt: T0, ...over,
    });
    const kinds = async (channel: string, id: string) => (await own.listDeliveries(channel, id, 100)).map((d) => d.type).sort();
    const claimAll = async (now: number) => own.claimDeliveries(now, 100, 30 * SECOND);

    it('keeps endpoints per channel: create, list, change (enabling clears why it was disabled), delete with its deliveries', async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['purchase.recorded']);
      await own.createWebhook(w);
      expect(await own.listWebhooks(s.channel)).toEqual([w]);
      expect(await own.getWebhook('other-channel', w.id)).toBeNull();
      const off = await own.updateWebhook(s.channel, w.id, { enabled: false, disabledReason: 'by the admin' }, T0 + 1);
      expect(off).toMatchObject({ enabled: false, disabledReason: 'by the admin', updatedAt: T0 + 1 });
      expect(await own.updateWebhook(s.channel, w.id, { enabled: true, events: ['purchase.recorded', 'stream.ended'] }, T0 + 2)).toMatchObject({
        enabled: true, disabledReason: null, failingSince: null, events: ['purchase.recorded', 'stream.ended'],
      });
      expect(await own.updateWebhook('other-channel', w.id, { enabled: false }, T0)).toBeNull();
      await own.recordPurchase(purchase(s, 'a', 100));
      expect(await kinds(s.channel, w.id)).toEqual(['purchase.recorded']);
      expect(await own.deleteWebhook('other-channel', w.id)).toBe(false);
      expect(await own.deleteWebhook(s.channel, w.id)).toBe(true);
      expect(await own.listWebhooks(s.channel)).toEqual([]);
      expect(await own.listDeliveries(s.channel, w.id, 10)).toEqual([]);
    });

    it('fans out in the transaction of each change, to enabled endpoints subscribed to the type, once per event', async () => {
      const s = await newStream(own);
      const all = endpoint(s.channel, ['purchase.recorded', 'purchase.refunded', 'offer.issued', 'offer.redeemed', 'viewer.tier_changed']);
      const some = endpoint(s.channel, ['purchase.recorded']);
      const off = endpoint(s.channel, ['purchase.recorded'], { enabled: false, disabledReason: 'off' });
      for (const w of [all, some, off]) await own.createWebhook(w);
      const elsewhere = await newStream(own);
      // a purchase: recorded once, its repeat writes nothing
      const first = purchase(s, 'a', 5000);
      await own.recordPurchase(first);
      expect((await own.recordPurchase(first)).inserted).toBe(false);
      await own.recordPurchase(purchase(elsewhere, 'a', 5000)); // another channel: not these endpoints'
      // a refund only when the refunded total grows
      const order = (await own.recordPurchase(purchase(s, 'b', 3000))) as { inserted: true; purchase: { orderId: string } };
      await own.refund(s.channel, order.purchase.orderId, 1000);
      await own.refund(s.channel, order.purchase.orderId, 1000);
      // an issue, and the redemption of what it issued
      const cid = await newCampaign(own, s);
      const [issued] = await own.issueOffers(request(s, cid, ['a'], T0 + 5));
      expect(issued!.offer).toBeDefined();
      expect((await own.redeem(s.channel, issued!.offer!.code, 'order-r', 'a', T0 + 6)).status).toBe('redeemed');
      expect((await own.redeem(s.channel, issued!.offer!.code, 'order-r', 'a', T0 + 7)).status).toBe('redeemed'); // a repeat: no event
      // a tier write carrying its change
      const change = { id: uid('evt'), type: 'viewer.tier_changed' as const, channel: s.channel, viewerId: 'a', at: T0 + 8, data: { from: 'potential', to: 'mid' } };
      await own.ingest([{ kind: 'reasons', channel: s.channel, viewerId: 'a', tier: 'mid', explain: why('r'), webhooks: [change] }]);
      expect(await kinds(s.channel, all.id)).toEqual(['offer.issued', 'offer.redeemed', 'purchase.recorded', 'purchase.recorded', 'purchase.refunded', 'viewer.tier_changed']);
      expect(await kinds(s.channel, some.id)).toEqual(['purchase.recorded', 'purchase.recorded']);
      expect(await own.listDeliveries(s.channel, off.id, 10)).toEqual([]);
      // the same event again (a retried fan-out) writes nothing
      expect(await own.enqueueWebhooks([change], T0 + 9)).toBe(0);
      // to one endpoint alone, even a disabled one
      expect(await own.enqueueWebhooks([{ ...change, id: uid('evt'), type: 'webhook.test' }], T0 + 9, off.id)).toBe(1);
      const body = JSON.parse((await own.listDeliveries(s.channel, all.id, 100)).find((d) => d.type === 'purchase.refunded')!.body);
      expect(body).toMatchObject({ type: 'purchase.refunded', channel: s.channel, data: { orderId: order.purchase.orderId, refunded: 1000, refundedBefore: 0 } });
    });

    it('a purchase that redeems its coupon reports both in its transaction; a refund reports only a refunded total that grew', async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['purchase.recorded', 'offer.redeemed', 'purchase.refunded']);
      await own.createWebhook(w);
      const cid = await newCampaign(own, s);
      const [issued] = await own.issueOffers(request(s, cid, ['buyer'], T0 + 1)); // offer.issued: not subscribed
      const offer = issued!.offer!;
      const p = purchase(s, 'buyer', 9900, { couponCode: offer.code, createdAt: T0 + MINUTE });
      expect(await own.recordPurchase(p)).toMatchObject({ inserted: true, coupon: { status: 'redeemed', now: true } });
      expect(await kinds(s.channel, w.id)).toEqual(['offer.redeemed', 'purchase.recorded']);
      expect((await own.recordPurchase(p)).inserted).toBe(false); // the order again: nothing
      expect((await own.redeem(s.channel, offer.code, p.purchase.orderId, 'buyer', T0 + 2 * MINUTE)).status).toBe('redeemed'); // a repeat: nothing
      const listed = await own.listDeliveries(s.channel, w.id, 10);
      expect(listed.map((d) => [d.type, d.viewerId, d.status, d.attempts, d.nextAt, d.createdAt])).toEqual(
        expect.arrayContaining([['offer.redeemed', 'buyer', 'pending', 0, T0 + MINUTE, T0 + MINUTE], ['purchase.recorded', 'buyer', 'pending', 0, T0 + MINUTE, T0 + MINUTE]]),
      );
      expect(listed.every((d) => /^msg_/.test(d.id))).toBe(true);
      const body = (type: string) => JSON.parse(listed.find((d) => d.type === type)!.body);
      expect(body('offer.redeemed')).toMatchObject({ type: 'offer.redeemed', channel: s.channel, data: { offerId: offer.id, code: offer.code, orderId: p.purchase.orderId } });
      expect(body('purchase.recorded')).toMatchObject({ data: { orderId: p.purchase.orderId, amount: 9900, couponCode: offer.code, refunded: 0 } });
      // refunds: 3000 (grew), 3000 again and 2000 (did not), the rest (grew)
      for (const total of [3000, 3000, 2000, 9900]) await own.refund(s.channel, p.purchase.orderId, total);
      await own.refund(s.channel, 'no-such-order', 100);
      const refunds = (await own.listDeliveries(s.channel, w.id, 10)).filter((d) => d.type === 'purchase.refunded').map((d) => JSON.parse(d.body).data);
      expect(refunds.map((d) => [d.refundedBefore, d.refunded]).sort((a, b) => a[0] - b[0])).toEqual([[0, 3000], [2000, 9900]]);
    });

    it('writes nothing for a channel without endpoints or a type no endpoint takes; one call fans out each channel to its own endpoints', async () => {
      const quiet = await newStream(own);
      const cid = await newCampaign(own, quiet, manualDoc());
      expect((await own.issueOffers(request(quiet, cid, ['a', 'b', 'c'], T0 + 1))).filter((r) => r.offer)).toHaveLength(3);
      await own.recordPurchase(purchase(quiet, 'a', 100));
      const e = (channel: string, type: 'stream.ended' | 'purchase.refunded' = 'stream.ended') => ({ id: uid('evt'), type, channel, viewerId: null, at: T0 + 2, data: {} });
      expect(await own.enqueueWebhooks([e(quiet.channel), e(quiet.channel)], T0 + 2)).toBe(0);
      expect(await own.enqueueWebhooks([], T0 + 2)).toBe(0);
      const other = endpoint(quiet.channel, ['purchase.refunded']);
      await own.createWebhook(other);
      expect(await own.enqueueWebhooks([e(quiet.channel)], T0 + 3)).toBe(0);
      await own.recordPurchase(purchase(quiet, 'b', 100));
      expect(await own.listDeliveries(quiet.channel, other.id, 10)).toEqual([]);
      // two channels in one call (a batch of tier writes): each event to its own channel's endpoints
      const loud = await newStream(own);
      const mine = endpoint(loud.channel, ['stream.ended', 'purchase.refunded'], { createdAt: T0 + 1 });
      const second = endpoint(loud.channel, ['stream.ended'], { createdAt: T0 + 2 });
      await own.createWebhook(second);
      await own.createWebhook(mine);
      expect((await own.listWebhooks(loud.channel)).map((w) => w.id)).toEqual([mine.id, second.id]); // oldest first
      expect(await own.getWebhook(loud.channel, other.id)).toBeNull();
      const both = [e(loud.channel), e(quiet.channel, 'purchase.refunded'), e(loud.channel, 'purchase.refunded'), e(quiet.channel)];
      expect(await own.enqueueWebhooks(both, T0 + 4)).toBe(4); // loud: 2 + 1, quiet: 1
      expect(await own.enqueueWebhooks(both, T0 + 5)).toBe(0);
      expect(await kinds(loud.channel, mine.id)).toEqual(['purchase.refunded', 'stream.ended']);
      expect(await kinds(loud.channel, second.id)).toEqual(['stream.ended']);
      expect(await kinds(quiet.channel, other.id)).toEqual(['purchase.refunded']);
      expect(await own.listDeliveries(loud.channel, other.id, 10)).toEqual([]); // another channel's endpoint
    });

    it('claims due deliveries with a lease; records attempts: delivered, retried, given up; the endpoint says since when it fails', async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['stream.ended']);
      await own.createWebhook(w);
      const e = (n: number) => ({ id: uid('evt'), type: 'stream.ended' as const, channel: s.channel, viewerId: null, at: T0 + 20 * DAY, data: { n } });
      expect(await own.enqueueWebhooks([e(1), e(2)], T0 + 20 * DAY)).toBe(2);
      const t = T0 + 20 * DAY;
      await own.claimDeliveries(t - 1, 1000, 1000 * DAY); // what earlier tests left due: held out of the way
      expect(await claimAll(t - 1)).toEqual([]);
      const got = await claimAll(t);
      expect(got.map((d) => [d.url, d.secret, d.channel, d.attempts, d.status])).toEqual([[w.url, w.secret, s.channel, 0, 'pending'], [w.url, w.secret, s.channel, 0, 'pending']]);
      expect(await claimAll(t + 29 * SECOND)).toEqual([]); // held
      const [ok, bad] = got;
      await own.finishDelivery(bad!.id, { at: t + 1, ok: false, code: 500, error: 'answered 500', durationMs: 12, nextAt: t + 5 * SECOND });
      expect((await own.getWebhook(s.channel, w.id))!.failingSince).toBe(t + 1);
      await own.finishDelivery(ok!.id, { at: t + 2, ok: true, code: 204, error: null, durationMs: 8, nextAt: null });
      expect((await own.getWebhook(s.channel, w.id))!.failingSince).toBeNull();
      const listed = Object.fromEntries((await own.listDeliveries(s.channel, w.id, 10)).map((d) => [d.id, d]));
      expect(listed[ok!.id]).toMatchObject({ status: 'delivered', attempts: 1, lastCode: 204, durationMs: 8, deliveredAt: t + 2, nextAt: null });
      expect(listed[bad!.id]).toMatchObject({ status: 'pending', attempts: 1, lastCode: 500, lastError: 'answered 500', nextAt: t + 5 * SECOND, firstTriedAt: t + 1 });
      // claimed again at its retry, given up on
      expect((await claimAll(t + 5 * SECOND)).map((d) => d.id)).toEqual([bad!.id]);
      await own.finishDelivery(bad!.id, { at: t + 6 * SECOND, ok: false, code: null, error: 'connection refused', durationMs: 1, nextAt: null });
      expect((await own.listDeliveries(s.channel, w.id, 10)).find((d) => d.id === bad!.id)).toMatchObject({ status: 'failed', attempts: 2, nextAt: null, firstTriedAt: t + 1 });
      expect(await claimAll(t + DAY)).toEqual([]);
      // a disabled endpoint's deliveries wait
      await own.enqueueWebhooks([e(3)], t + DAY);
      await own.updateWebhook(s.channel, w.id, { enabled: false, disabledReason: 'failing' }, t + DAY);
      expect(await claimAll(t + DAY)).toEqual([]);
      await own.updateWebhook(s.channel, w.id, { enabled: true }, t + DAY);
      expect(await claimAll(t + DAY)).toHaveLength(1);
      // pruned: what was delivered or failed before the cutoff
      expect(await own.pruneDeliveries(t + 7 * SECOND)).toBe(2);
    });

    it('two claims at once never take the same delivery', async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['stream.ended']);
      await own.createWebhook(w);
      const t = T0 + 40 * DAY;
      await own.claimDeliveries(t, 1000, 1000 * DAY);
      const events = Array.from({ length: 40 }, (_, n) => ({ id: uid('evt'), type: 'stream.ended' as const, channel: s.channel, viewerId: null, at: t, data: { n } }));
      await own.enqueueWebhooks(events, t);
      const [a, b] = await Promise.all([own.claimDeliveries(t, 25, 30 * SECOND), own.claimDeliveries(t, 25, 30 * SECOND)]);
      const ids = [...a!, ...b!].map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(40);
    });

    it('a claim never finished (its process died) is claimed again when its lease ends; retries come back oldest due first', async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['stream.ended']);
      await own.createWebhook(w);
      const t = T0 + 60 * DAY;
      await own.claimDeliveries(t + 10 * SECOND, 1000, 1000 * DAY); // what earlier tests left due: held out of the way
      const e = () => ({ id: uid('evt'), type: 'stream.ended' as const, channel: s.channel, viewerId: null, at: t, data: {} });
      await own.enqueueWebhooks([e()], t);
      const [first] = await own.claimDeliveries(t, 10, 30 * SECOND);
      expect(first).toMatchObject({ status: 'pending', attempts: 0, nextAt: t + 30 * SECOND, createdAt: t, webhookId: w.id, failingSince: null });
      expect(await own.claimDeliveries(t + 30 * SECOND - 1, 10, 30 * SECOND)).toEqual([]);
      const again = await own.claimDeliveries(t + 30 * SECOND, 10, 30 * SECOND);
      expect(again.map((d) => d.id)).toEqual([first!.id]);
      // a later event; both fail; the later one is due first
      await own.enqueueWebhooks([e()], t + 31 * SECOND);
      const [second] = await own.claimDeliveries(t + 31 * SECOND, 10, 30 * SECOND);
      expect(second!.id).not.toBe(first!.id);
      const failed = (at: number, nextAt: number) => ({ at, ok: false, code: 503, error: 'answered 503', durationMs: 3.4, nextAt });
      await own.finishDelivery(first!.id, failed(t + 32 * SECOND, t + 50 * SECOND));
      await own.finishDelivery(second!.id, failed(t + 33 * SECOND, t + 40 * SECOND));
      expect((await own.getWebhook(s.channel, w.id))!.failingSince).toBe(t + 32 * SECOND); // kept from the first failure
      expect((await own.claimDeliveries(t + 50 * SECOND, 10, 30 * SECOND)).map((d) => [d.id, d.attempts, d.failingSince])).toEqual([
        [second!.id, 1, t + 32 * SECOND],
        [first!.id, 1, t + 32 * SECOND],
      ]);
      expect((await own.listDeliveries(s.channel, w.id, 10)).map((d) => d.durationMs)).toEqual([3, 3]);
      // the endpoint deleted while its deliveries are out: their attempts are recorded nowhere, and nothing fails
      expect(await own.deleteWebhook(s.channel, w.id)).toBe(true);
      await expect(own.finishDelivery(first!.id, { at: t + 51 * SECOND, ok: true, code: 200, error: null, durationMs: 1, nextAt: null })).resolves.toBeUndefined();
      await expect(own.finishDelivery(second!.id, failed(t + 51 * SECOND, t + DAY))).resolves.toBeUndefined();
      expect(await own.listDeliveries(s.channel, w.id, 10)).toEqual([]);
      expect(await own.claimDeliveries(t + 2 * DAY, 10, 30 * SECOND)).toEqual([]);
    });

    it("erasure deletes a viewer's undelivered events of that channel", async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['purchase.recorded']);
      await own.createWebhook(w);
      const elsewhere = await newStream(own);
      const theirs = endpoint(elsewhere.channel, ['purchase.recorded']);
      await own.createWebhook(theirs);
      const t = T0 + 80 * DAY;
      await own.claimDeliveries(t, 1000, 1000 * DAY); // what earlier tests left due: held out of the way
      // one of the viewer's events delivered before the erasure: what the merchant already has stays listed
      await own.recordPurchase(purchase(s, 'gone', 100, { createdAt: t }));
      const [sent] = await own.claimDeliveries(t, 10, 30 * SECOND);
      await own.finishDelivery(sent!.id, { at: t + 1, ok: true, code: 200, error: null, durationMs: 5, nextAt: null });
      await own.recordPurchase(purchase(s, 'gone', 100, { createdAt: t + 2 }));
      await own.recordPurchase(purchase(s, 'stays', 100, { createdAt: t + 3 }));
      await own.recordPurchase(purchase(elsewhere, 'gone', 100, { createdAt: t + 4 })); // the same id in another channel
      expect(await own.eraseViewer(s.channel, 'gone', 'erased:1')).toBe(true);
      expect((await own.listDeliveries(s.channel, w.id, 10)).map((d) => [d.viewerId, d.status])).toEqual([['stays', 'pending'], ['gone', 'delivered']]);
      expect((await own.listDeliveries(elsewhere.channel, theirs.id, 10)).map((d) => d.viewerId)).toEqual(['gone']);
    });

    it('ends a stream once, whoever asks at once; idle streams are those no process marked active lately', async () => {
      const s = await newStream(own);
      const w = endpoint(s.channel, ['stream.ended']);
      await own.createWebhook(w);
      const ended = (st: { id: string; channel: string; endedAt: number | null }) => ({ id: uid('evt'), type: 'stream.ended' as const, channel: st.channel, viewerId: null, at: T0 + HOUR, data: { streamId: st.id, endedAt: st.endedAt } });
      const results = await Promise.all([own.endStream(s.id, T0 + HOUR, ended), own.endStream(s.id, T0 + HOUR + 1, ended), own.endStream(s.id, T0 + HOUR + 2, ended)]);
      expect(results.filter((r) => r?.now)).toHaveLength(1);
      const endedAt = results.find((r) => r?.now)!.endedAt;
      expect(results.every((r) => r!.endedAt === endedAt)).toBe(true);
      expect((await own.getStream(s.id))!.endedAt).toBe(endedAt);
      const listed = await own.listDeliveries(s.channel, w.id, 10);
      expect(listed).toHaveLength(1);
      expect(JSON.parse(listed[0]!.body).data).toEqual({ streamId: s.id, endedAt });
      expect(await own.endStream('no-such-stream', T0, ended)).toBeNull();

      const live = await newStream(own);
      const idle = (before: number) => own.idleStreams(before, 1000).then((r) => r.map((x) => x.id));
      expect(await idle(T0 + 1)).toContain(live.id); // created at T0, never active
      await own.touchStreams([live.id], T0 + 10 * MINUTE);
      await own.touchStreams([live.id], T0 + 5 * MINUTE); // a late mark never moves it back
      expect(await idle(T0 + 10 * MINUTE)).not.toContain(live.id);
      expect(await idle(T0 + 10 * MINUTE + 1)).toContain(live.id);
      expect(await idle(T0 + DAY)).not.toContain(s.id); // ended
    });

    it('finds the stored viewers whose lifecycle time alone may have moved, a page at a time', async () => {
      const s = await newStream(own);
      await own.ingest([join(s, 'v1', T0), join(s, 'v2', T0 + DAY), join(s, 'v3', T0 + 2 * DAY)]);
      await own.setTiers([{ channel: s.channel, viewerId: 'v3', tier: 'potential', explain: [], lifecycle: 'at_risk' }]);
      const cut = { seenBefore: T0 + DAY + 1, boughtBefore: T0, firstSeenBefore: T0 - 1 };
      expect((await own.lifecycleDue(s.channel, cut, null, 10)).map((r) => [r.viewerId, r.lifecycle, r.lastSeenAt])).toEqual([['v1', 'new', T0], ['v2', 'new', T0 + DAY]]);
      expect((await own.lifecycleDue(s.channel, cut, 'v1', 10)).map((r) => r.viewerId)).toEqual(['v2']);
      expect((await own.lifecycleDue(s.channel, cut, null, 1)).map((r) => r.viewerId)).toEqual(['v1']);
      // first seen long ago: `new` ends (v3 is at_risk: not new)
      expect((await own.lifecycleDue(s.channel, { seenBefore: T0, boughtBefore: T0, firstSeenBefore: T0 + 3 * DAY }, null, 10)).map((r) => r.viewerId)).toEqual(['v1', 'v2']);
      expect(await own.listChannels()).toContain(s.channel);
    });
  });

  describe('the channel overview: its key, its streams, the tiers recorded at their ends', () => {
    const ended = (st: { id: string; channel: string }) => ({ id: uid('evt'), type: 'stream.ended' as const, channel: st.channel, viewerId: null, at: T0, data: {} });
    const digest = () => randomBytes(32).toString('hex');
    const tiers = (s: Fixture, t: Record<string, Tier>) =>
      store.setTiers(Object.entries(t).map(([viewerId, tier]) => ({ channel: s.channel, viewerId, tier, explain: [] })));

    it("rotates a channel's read-only key: the replaced digest is found during its grace period, then not", async () => {
      const s = await newStream(store);
      const [k1, k2, k3, k4] = [digest(), digest(), digest(), digest()];
      expect(await store.channelForKey(k1, T0)).toBeNull();
      expect(await store.rotateChannelKey(s.channel, k1, null, T0)).toBe(true);
      expect(await store.channelForKey(k1, T0)).toBe(s.channel);

      const until = T0 + 10 * MINUTE;
      expect(await store.rotateChannelKey(s.channel, k2, until, T0 + 1)).toBe(true);
      expect(await store.channelForKey(k2, T0 + 2)).toBe(s.channel);
      expect(await store.channelForKey(k1, until - 1)).toBe(s.channel);
      expect(await store.channelForKey(k1, until)).toBeNull();
      // a second rotation during the grace period: the key it replaces is the previous one now, the first stops
      expect(await store.rotateChannelKey(s.channel, k3, T0 + 20 * MINUTE, T0 + MINUTE)).toBe(true);
      expect(await store.channelForKey(k1, T0 + 2 * MINUTE)).toBeNull();
      expect(await store.channelForKey(k2, T0 + 2 * MINUTE)).toBe(s.channel);
      // without a grace period (or one already over) the replaced key stops at once
      expect(await store.rotateChannelKey(s.channel, k4, T0 + 2 * MINUTE, T0 + 3 * MINUTE)).toBe(true);
      expect(await store.channelForKey(k3, T0 + 3 * MINUTE)).toBeNull();
      expect(await store.channelForKey(k4, T0 + 3 * MINUTE)).toBe(s.channel);
      // another channel's key is its own; an unknown channel gets none and is not created
      const other = await newStream(store);
      expect(await store.rotateChannelKey(other.channel, k1, null, T0)).toBe(true);
      expect(await store.channelForKey(k1, T0)).toBe(other.channel);
      const unknown = uid('ch');
      expect(await store.rotateChannelKey(unknown, digest(), null, T0)).toBe(false);
      expect(await store.channelExists(unknown)).toBe(false);
    });

    it("lists a channel's newest streams first, and only that channel's", async () => {
      const channel = uid('ch');
      const made: Fixture[] = [];
      for (const at of [T0, T0 + 2 * HOUR, T0 + HOUR]) {
        const row = { ...newStreamRow(channel), createdAt: at };
        expect(await store.createStream(row, 'secret')).toBe(true);
        made.push(row);
      }
      await newStream(store); // another channel
      const listed = await store.channelStreams(channel, 10);
      expect(listed.map((r) => r.id)).toEqual([made[1]!.id, made[2]!.id, made[0]!.id]);
      expect(listed[0]).toEqual({ ...made[1]!, endedAt: null, atEnd: null });
      expect((await store.channelStreams(channel, 2)).map((r) => r.id)).toEqual([made[1]!.id, made[2]!.id]);
      expect(await store.channelStreams(uid('ch'), 10)).toEqual([]);
    });

    it("records each viewer's tier at a stream's end, and the moves since their previous stream", async () => {
      const s1 = await newStream(store);
      await store.ingest(['a', 'b', 'c', 'd'].map((v) => join(s1, v, T0)));
      await tiers(s1, { a: 'high', b: 'mid' });
      expect(await store.tierMovesNow(s1.channel, s1.id)).toEqual({ high: 1, mid: 1, potential: 2, movedUp: 0, movedDown: 0 });
      expect(await store.endStream(s1.id, T0 + HOUR, ended, 7)).toEqual({ endedAt: T0 + HOUR, now: true });
      const first = { peakConnected: 7, high: 1, mid: 1, potential: 2, movedUp: 0, movedDown: 0 };
      expect((await store.channelStreams(s1.channel, 1))[0]).toMatchObject({ id: s1.id, endedAt: T0 + HOUR, atEnd: first });

      // the next stream: a falls to mid, b rises to high, c stays, e is new (no earlier stream: no move)
      const s2 = { ...newStreamRow(s1.channel), createdAt: T0 + 2 * HOUR };
      expect(await store.createStream(s2, 'secret')).toBe(true);
      await store.ingest(['a', 'b', 'c', 'e'].map((v) => join(s2, v, T0 + 2 * HOUR)));
      await tiers(s2, { a: 'mid', b: 'high', e: 'high' });
      const moves = { high: 2, mid: 1, potential: 1, movedUp: 1, movedDown: 1 };
      expect(await store.tierMovesNow(s2.channel, s2.id)).toEqual(moves);
      expect(await store.channelTiers(s1.channel)).toEqual({ high: 2, mid: 1, potential: 2 });
      expect(await store.endStream(s2.id, T0 + 3 * HOUR, ended)).toMatchObject({ now: true });
      // a repeated end records nothing again; the first stream's record is untouched
      await tiers(s2, { a: 'potential' });
      expect(await store.endStream(s2.id, T0 + 4 * HOUR, ended, 99)).toEqual({ endedAt: T0 + 3 * HOUR, now: false });
      const listed = await store.channelStreams(s1.channel, 10);
      expect(listed.map((r) => [r.id, r.atEnd])).toEqual([[s2.id, { peakConnected: null, ...moves }], [s1.id, first]]);

      // a third stream compares with each viewer's latest record: a (potential now) was mid at s2's end
      const s3 = { ...newStreamRow(s1.channel), createdAt: T0 + 5 * HOUR };
      expect(await store.createStream(s3, 'secret')).toBe(true);
      await store.ingest([join(s3, 'a', T0 + 5 * HOUR), join(s3, 'd', T0 + 5 * HOUR)]);
      await tiers(s3, { a: 'high' });
      expect(await store.tierMovesNow(s3.channel, s3.id)).toEqual({ high: 1, mid: 0, potential: 1, movedUp: 1, movedDown: 0 });

      // the export carries what was recorded; erasure takes it away (b, back as someone new, moved nowhere)
      const streams = (await store.exportViewer(s1.channel, 'b'))!.streams.map((r: any) => [r.stream_id, r.tier_at_end, r.previous_tier_at_end]);
      expect(streams.sort()).toEqual([[s1.id, 'mid', null], [s2.id, 'high', 'mid']].sort());
      expect(await store.eraseViewer(s1.channel, 'b', `erased:${uid('x')}`)).toBe(true);
      await store.ingest([join(s3, 'b', T0 + 5 * HOUR)]);
      await tiers(s3, { b: 'potential' });
      expect(await store.tierMovesNow(s3.channel, s3.id)).toMatchObject({ movedUp: 1, movedDown: 0 });
      // the recorded counts are the stream's, not a person's: they stay
      expect((await store.channelStreams(s1.channel, 10)).find((r) => r.id === s2.id)!.atEnd).toEqual({ peakConnected: null, ...moves });
    });

    it('moves the tiers recorded for an anonymous viewer to the verified one it is aliased to', async () => {
      const s1 = await newStream(store);
      await store.ingest([join(s1, 'anon:x', T0), join(s1, 'w', T0)]);
      await tiers(s1, { w: 'mid' });
      await store.endStream(s1.id, T0 + HOUR, ended, 2);
      expect((await store.alias(s1.channel, 'anon:x', 'v', T0 + 2 * HOUR)).merged).toBe(true);
      const streams = (await store.exportViewer(s1.channel, 'v'))!.streams as any[];
      expect(streams.map((r) => [r.stream_id, r.tier_at_end])).toEqual([[s1.id, 'potential']]);
      const s2 = { ...newStreamRow(s1.channel), createdAt: T0 + 3 * HOUR };
      expect(await store.createStream(s2, 'secret')).toBe(true);
      await store.ingest([join(s2, 'v', T0 + 3 * HOUR, true)]);
      await tiers(s2, { v: 'high' });
      expect(await store.tierMovesNow(s2.channel, s2.id)).toEqual({ high: 1, mid: 0, potential: 0, movedUp: 1, movedDown: 0 });
    });
  });

  describe('retention and closing (each test a store of its own)', () => {
    const OLD = Date.UTC(2000, 0, 1, 12);
    const CUTOFF = Date.UTC(2000, 0, 3);

    /** 25 likes received on 1 January 2000, then a comment and a like received now */
    async function aged(own: Store): Promise<Fixture> {
      const s = newStreamRow();
      await own.createStream({ ...s, createdAt: OLD }, 'secret');
      await own.ingest([join(s, 'v', OLD)]);
      for (let i = 0; i < 5; i++) await own.ingest([track(s, 'v', Array.from({ length: 5 }, () => ev('like', {})), OLD + i)]);
      await own.ingest([track(s, 'v', [ev('comment', { text: 'recent' }), ev('like', {})], T0)]);
      expect(await own.countEvents(s.id)).toBe(27);
      return s;
    }

    it('purgeEvents deletes the events received before the cutoff and nothing else', async () => {
      const own = await h.open();
      const s = await aged(own);
      let total = 0;
      for (let i = 0; i < 10; i++) {
        const n = await own.purgeEvents(CUTOFF, 10);
        if (n === 0) break;
        total += n;
      }
      expect(total).toBe(25);
      expect(await own.countEvents(s.id)).toBe(2);
      expect(await own.purgeEvents(CUTOFF, 10)).toBe(0);
      // the aggregates stay
      expect(await own.getViewerStream(s.id, 'v')).toMatchObject({ likes: 26, comments: 1 });
      expect(await own.getViewer(s.channel, 'v')).toMatchObject({ likes: 26, comments: 1 });
    }, 60_000);

    // SQLite deletes rows, so a call is bounded by `batch`; PostgreSQL drops whole day partitions
    // (one cheap statement whatever their size), so only its DEFAULT partition is trimmed by batch
    it('purgeEvents deletes in bounded batches (rows on SQLite; whole day partitions on PostgreSQL)', async () => {
      const own = await h.open();
      const s = await aged(own);
      const calls: number[] = [];
      for (let n = -1; n !== 0 && calls.length < 10; ) calls.push((n = await own.purgeEvents(CUTOFF, 10)));
      if (own.kind === 'sqlite') expect(calls.every((n) => n <= 10), `deleted per call: ${calls.join(', ')}`).toBe(true);
      expect(calls.reduce((a, b) => a + b, 0)).toBe(25);
      expect(await own.countEvents(s.id)).toBe(2);
    }, 60_000);

    it('a closed store rejects with StoreUnavailableError', async () => {
      const own = await h.open();
      await own.ping();
      await own.close();
      await expect(own.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(own.getStream('s')).rejects.toBeInstanceOf(StoreUnavailableError);
    }, 60_000);
  });
});
