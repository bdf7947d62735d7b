/**
 * The SQLite store: the `Store` contract (../types.ts) over one better-sqlite3 connection, composed
 * from the statement modules beside this file (repo, viewers, campaigns, dashboard, alias, keys,
 * retention, overview).
 *
 * Atomicity comes from better-sqlite3 being synchronous. Every operation is written below as a
 * plain synchronous function, one statement or one `db.transaction(...)()`, and exposed as an
 * async method that runs it to the end before returning its promise. Nothing can run between two
 * statements of an operation, so no two operations interleave; the transactions make each
 * operation all-or-nothing on disk. The read-decide-write operations (`ingest`, `issueOffers`,
 * `recordPurchase`, `redeem`, …) take their pure decisions from the caller and call them inside
 * their transaction, as the contract asks.
 */
import { openDatabase, type DB, type OpenOptions } from './db.js';
import { createRepo } from './repo.js';
import { createViewerStore } from './viewers.js';
import { createCampaignStore } from './campaigns.js';
import { createDashboardQueries, type CsvCursor } from './dashboard.js';
import { mergeViewers } from './alias.js';
import { createKeyStore } from './keys.js';
import { createEventPurge } from './retention.js';
import { createJobStore } from './jobs.js';
import { createHistoryStore } from './history.js';
import { createWebhookStore } from './webhooks.js';
import { createLifecycleReads } from './lifecycle.js';
import { createModelStore } from './models.js';
import { createOverviewStore } from './overview.js';
import type { ChannelModel, StoredPrediction } from '../../predict/channel-model.js';
import { streamFrom } from './repo.js';
import { offerIssued, offerRedeemed, purchaseRecorded, purchaseRefunded } from '../../webhooks/events.js';
import { cartJob, cartJobId, JOB_LEASE_MS, purchaseJob, trackWrites, watchJob, type JobRow } from '../../jobs/due.js';
import { tally } from '../../ingest/tally.js';
import { checkRedeem, RACE_LOST } from '../../offers/redeem.js';
import { generateCode } from '../../offers/codes.js';
import type { SkipReason } from '../../offers/rules.js';
import {
  issuedOffer, StoreUnavailableError,
  type CampaignOfferRow, type CampaignRow, type CsvViewerRow, type IngestJob, type IngestResult, type IssueRequest,
  type IssueResult, type NewStream, type OfferRow, type PurchaseRecord, type PurchaseRow, type RecordPurchaseResult, type RedeemResult, type Store,
} from '../types.js';

export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /** the open database: for backups, the query-plan tests and retention */
  readonly db: DB;
}

/** Opens (creating and migrating if needed) the SQLite file and returns the store over it. */
export function openSqliteStore(file: string, opts: OpenOptions = {}): SqliteStore {
  return createSqliteStore(openDatabase(file, opts));
}

/** `Store`'s Promise-returning operations as the synchronous functions the SQLite store runs. */
type SyncOps = {
  [K in keyof Store as Store[K] extends (...args: any[]) => Promise<unknown> ? K : never]: Store[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => R
    : never;
};

type AsyncOps<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/**
 * Errors that mean "the database cannot answer now" (locked past the busy timeout, I/O failure,
 * disk full, the file gone): callers retry later. Anything else (a constraint, a bad statement)
 * is a bug and is passed on as it is.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|NOMEM)/;

function storeError(db: DB, err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (db.open && !(typeof code === 'string' && UNAVAILABLE.test(code))) return err;
  const e = new StoreUnavailableError(db.open ? `SQLite: ${(err as Error).message}` : 'the SQLite database is closed');
  e.cause = err;
  return e;
}

/** Each synchronous operation as an async method: it runs at the call, its result or error is the promise's. */
function asAsync<T extends Record<string, (...args: any[]) => unknown>>(ops: T, fail: (err: unknown) => unknown): AsyncOps<T> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(ops)) {
    out[name] = async (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (err) {
        throw fail(err);
      }
    };
  }
  return out as AsyncOps<T>;
}

/** a code collision is retried this many times (2^-49 per pair of codes: never twice in practice) */
const CODE_ATTEMPTS = 5;

const isCodeCollision = (err: unknown) =>
  (err as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_UNIQUE' && String((err as Error).message).includes('offers.code');

/** The store over an already-open (and migrated) database. */
export function createSqliteStore(db: DB): SqliteStore {
  const repo = createRepo(db);
  const viewers = createViewerStore(db);
  const campaigns = createCampaignStore(db);
  const dashboard = createDashboardQueries(db);
  const keys = createKeyStore(db);
  const events = createEventPurge(db);
  const jobs = createJobStore(db);
  const history = createHistoryStore(db);
  const hooks = createWebhookStore(db);
  const lifecycle = createLifecycleReads(db);
  const models = createModelStore(db);
  const overview = createOverviewStore(db);
  const ping = db.prepare('SELECT 1');

  /**
   * One purchase, inside the caller's transaction (recordPurchase, recordPurchases). `refresh`
   * false: the caller refreshes the viewer's value columns (once per viewer of a batch).
   */
  const recordOne = ({ purchase: p, now, outbox }: PurchaseRecord, refresh = true): RecordPurchaseResult => {
    const existing = repo.getPurchase(p.channel, p.orderId);
    if (existing) return { inserted: false, existing };
    repo.ensureViewer(p.channel, p.viewerId, p.at, now);
    repo.insertPurchase(p);
    jobs.remove(cartJobId(p.channel, p.viewerId)); // a purchase closes the viewer's cart
    const job: JobRow | null = outbox ? jobs.create(purchaseJob(p.channel, p.streamId, p.viewerId, p.orderId, now, outbox), now + JOB_LEASE_MS) : null;
    let coupon: { status: RedeemResult['status']; offer?: OfferRow; now?: boolean } | undefined;
    if (p.couponCode) {
      const r = redeemCode(p.channel, p.couponCode, p.orderId, p.viewerId, now);
      coupon = r.status === 'redeemed' ? { status: r.status, offer: r.offer, now: r.now } : { status: r.status };
    }
    if (refresh) viewers.refreshValue(p.channel, p.viewerId);
    const purchase: PurchaseRow = { ...p, items: p.items ?? null, refunded: 0 }; // as stored
    hooks.fanOut([purchaseRecorded(purchase, now)], now);
    return { inserted: true, purchase, ...(coupon ? { coupon } : {}), ...(job ? { job } : {}) };
  };

  /** a read of several statements, as one snapshot */
  const read = <A extends unknown[], R>(fn: (...args: A) => R) => db.transaction(fn) as unknown as (...args: A) => R;

  // ---------------------------------------------------------------- ingest

  /** One job of a group commit: exactly what the engine's writer did per job before the store had an interface. */
  function applyJob(job: IngestJob): IngestResult {
    switch (job.kind) {
      case 'join': {
        const firstTime = repo.touchViewer(job.channel, job.streamId, job.viewerId, job.verified, job.now);
        const vs = repo.getViewerStream(job.streamId, job.viewerId);
        // a join is the base of the viewer's next watch credit in this stream
        return { firstTime, streamWatchMs: vs?.watchMs ?? 0, accepted: [], duplicates: 0, watchCredited: 0, lastCreditAt: job.now };
      }
      case 'track': {
        const { streamId, channel, viewerId, now } = job;
        // an event is new when its INSERT OR IGNORE changed a row: (stream, viewer, event id) is the dedup key
        const t = tally(job.events, job.lastCreditAt, now, (ev, creditMs, data) =>
          repo.insertEvent(streamId, ev.id, viewerId, ev.type, Math.floor(ev.ts), now, creditMs, data),
        );
        if (t.stored.length) repo.addDeltas(channel, streamId, viewerId, t.deltas, now);
        for (const id of t.seen) repo.markSeen(id, channel, viewerId, now);
        for (const id of t.clicked) repo.markClicked(id, channel, viewerId, now);
        const accepted = t.stored.map((s) => s.event);
        const res: IngestResult = { accepted, duplicates: t.duplicates, watchCredited: t.deltas.watchMs, lastCreditAt: t.lastCreditAt };
        if (job.triggers && accepted.length) {
          // the waiting triggers this batch arms, closes or creates, in its transaction
          if (res.watchCredited > 0) res.streamWatchMs = repo.getViewerStream(streamId, viewerId)?.watchMs ?? 0;
          const w = trackWrites(accepted, res.watchCredited, res.streamWatchMs ?? 0, job.triggers);
          if (w.cart === 'arm') jobs.arm(cartJob(channel, streamId, viewerId, now, job.triggers.cartDelayMs!));
          else if (w.cart === 'close') jobs.remove(cartJobId(channel, viewerId));
          if (w.watch) {
            const due = jobs.create(watchJob(channel, streamId, viewerId, now, w.watch), now + JOB_LEASE_MS);
            if (due) res.due = [due];
          }
        }
        return res;
      }
      // the other jobs credit no watch time: their lastCreditAt (a track's field) is 0
      case 'delivered':
        repo.markDelivered(job.offerId, job.now);
        return { accepted: [], duplicates: 0, watchCredited: 0, lastCreditAt: 0 };
      case 'reasons':
        repo.setTier(job.channel, job.viewerId, job.tier, job.explain, job.lifecycle);
        if (job.webhooks?.length) hooks.fanOut(job.webhooks); // the changes this write stores
        return { accepted: [], duplicates: 0, watchCredited: 0, lastCreditAt: 0 };
    }
  }

  // ---------------------------------------------------------------- offers

  /** The redemption of a code by an order: `checkRedeem`, then the single-use conditional UPDATE. Runs inside the caller's transaction. */
  function redeemCode(channel: string, code: string, orderId: string, viewerId: string, now: number): RedeemResult {
    const offer = repo.offerByCode(code);
    const check = checkRedeem(offer, channel, viewerId, orderId, now);
    if (check.ok === false) return { status: check.status, message: check.message };
    if (check.ok === 'repeat') return { status: 'redeemed', offer: offer!, now: false };
    if (!repo.redeem(offer!.id, orderId, now)) return { status: 'already_redeemed', message: RACE_LOST };
    const redeemed = repo.offerById(offer!.id)!;
    hooks.fanOut([offerRedeemed(redeemed, orderId, now)], now);
    return { status: 'redeemed', offer: redeemed, now: true };
  }

  /** Inserts a campaign's offer under a fresh code, drawing again on the (astronomically rare) collision. */
  function insertCampaignOffer(o: Omit<CampaignOfferRow, 'code'>): OfferRow {
    for (let attempt = 1; ; attempt++) {
      const code = generateCode();
      try {
        campaigns.insertOffer({ ...o, code });
        return issuedOffer({ ...o, code });
      } catch (err) {
        // a failed INSERT undoes only itself; the transaction around it goes on
        if (attempt < CODE_ATTEMPTS && isCodeCollision(err)) continue;
        throw err;
      }
    }
  }

  /**
   * One campaign's check-and-issue, in one transaction. SQLite runs one writer at a time and
   * this transaction does not yield, so the campaign row and the histories read at its start stay
   * true throughout: each decision sees the counters and histories as the viewers before it left
   * them (kept here), and the counters are written once at the end, still only within the quota and
   * budget columns (a decision that disagrees with them is a bug: the whole issue rolls back).
   */
  function issue(req: IssueRequest): IssueResult[] {
    const found = campaigns.get(req.streamId, req.campaignId);
    // a job instance fires each campaign once: its effect key is recorded with the issue
    if (!found || (req.once !== undefined && !jobs.effect(req.once, req.campaignId, req.now))) {
      return req.viewers.map(({ viewerId }) => ({ viewerId, decision: null }));
    }
    const c: CampaignRow = { ...found, skipped: { ...found.skipped } };
    const histories = campaigns.histories(req.streamId, c.id, [...new Set(req.viewers.map((v) => v.viewerId))]);
    const limits = c.doc.limits;
    const skipped: Record<SkipReason, number> = { capped: 0, budget: 0, quota: 0, alreadyHas: 0 };
    const out: IssueResult[] = [];
    let issued = 0;
    let value = 0;
    const skip = (viewerId: string, reason: SkipReason) => {
      skipped[reason]++;
      c.skipped[reason]++;
      out.push({ viewerId, decision: { kind: 'skip', reason } });
    };
    for (const { viewerId, currency } of req.viewers) {
      const h = histories.get(viewerId) ?? { inCampaign: 0, inStream: 0, lastAt: null };
      const d = req.decide({ ...c, skipped: { ...c.skipped } }, { ...h }, viewerId);
      if (!d) {
        out.push({ viewerId, decision: null });
      } else if (d.kind === 'skip') {
        skip(viewerId, d.reason);
      } else if (d.kind === 'hold') {
        campaigns.assign(req.streamId, c.id, viewerId, req.channel, 'control', req.now);
        out.push({ viewerId, decision: d });
      } else if ((limits?.maxIssued !== undefined && c.issued >= limits.maxIssued) || (limits?.budget !== undefined && c.committed + d.value > limits.budget)) {
        skip(viewerId, 'quota'); // the stock wins over a decision that disagrees with it
      } else {
        c.issued++;
        c.committed += d.value;
        issued++;
        value += d.value;
        const offer = insertCampaignOffer(req.offer({ ...c, skipped: { ...c.skipped } }, viewerId, currency, d.value));
        campaigns.assign(req.streamId, c.id, viewerId, req.channel, 'treatment', req.now);
        // a viewer listed twice is limited like any other
        histories.set(viewerId, { inCampaign: h.inCampaign + 1, inStream: h.inStream + 1, lastAt: h.lastAt === null ? offer.createdAt : Math.max(h.lastAt, offer.createdAt) });
        out.push({ viewerId, decision: d, offer });
      }
    }
    if (issued && !campaigns.takeMany(req.streamId, c.id, issued, value)) throw new Error(`campaign ${c.id}: the issue disagrees with its stock columns`);
    if (issued) hooks.fanOut(out.flatMap((r) => (r.offer ? [offerIssued(r.offer, req.now)] : [])), req.now);
    for (const r of Object.keys(skipped) as SkipReason[]) if (skipped[r]) campaigns.skip(req.streamId, c.id, r, skipped[r]);
    return out;
  }

  // ---------------------------------------------------------------- the operations

  const ops: SyncOps = {
    ping: () => void ping.get(),
    close: () => {
      if (db.open) db.close();
    },

    getChannelSecret: (channel) => repo.getChannelSecret(channel),
    getChannelSecrets: (channel, now) => repo.getChannelSecrets(channel, now),
    // a grace period that has already ended (until <= now) keeps nothing
    rotateChannelSecret: (channel, secret, until, now) => repo.rotateChannelSecret(channel, secret, until !== null && until > now ? until : null),
    channelExists: (channel) => viewers.channelExists(channel),
    getRules: (channel) => viewers.getRules(channel),
    setRules: (channel, doc, now) => viewers.setRules(channel, doc, now),

    createStream: db.transaction((s: NewStream, channelSecret: string): boolean => {
      if (repo.getStream(s.id)) return false;
      repo.ensureChannel(s.channel, channelSecret, s.createdAt);
      repo.insertStream(s);
      return true;
    }),
    getStream: (id) => repo.getStream(id),
    streamByIngestHash: (hash) => repo.streamByIngestHash(hash),
    streamByHostHash: (hash) => repo.streamByHostHash(hash),
    retiredKey: (hash, now) => keys.retiredKey(hash, now),
    rotateKeys: (streamId, next, until, now) => void keys.rotate(streamId, next, until, now),

    streamTotals: read((streamId: string) => {
      const sales = repo.streamSales(streamId);
      return { audience: repo.audience(streamId), orders: sales.orders, gmv: sales.gmv, offers: repo.offerCounts(streamId) };
    }),
    audience: (streamId) => repo.audience(streamId),
    countEvents: (streamId) => repo.countEvents(streamId),

    getViewer: (channel, id) => repo.getViewer(channel, id),
    getViewerStream: (streamId, viewerId) => repo.getViewerStream(streamId, viewerId),
    viewerPurchases: (channel, viewerId) => repo.viewerPurchases(channel, viewerId),
    recentCheckouts: (channel, viewerId, n) => viewers.recentCheckouts(channel, viewerId, n),
    recentOffers: (channel, viewerId, n) => viewers.recentOffers(channel, viewerId, n),
    buyers: (channel, since, now) => viewers.buyers(channel, since, now),
    channelViewerIds: (channel) => viewers.channelViewerIds(channel),
    setTiers: db.transaction((rows: Parameters<Store['setTiers']>[0]) => {
      for (const r of rows) repo.setTier(r.channel, r.viewerId, r.tier, r.explain, r.lifecycle);
    }),
    listViewers: (q) => viewers.list(q),
    exportViewer: read((channel: string, viewerId: string) => viewers.export(channel, viewerId)),
    eraseViewer: db.transaction((channel: string, viewerId: string, erasedId: string) => {
      jobs.eraseViewer(channel, viewerId);
      history.eraseViewer(channel, viewerId);
      hooks.eraseViewer(channel, viewerId);
      overview.erase(channel, viewerId);
      return viewers.erase(channel, viewerId, erasedId);
    }),
    alias: (channel, from, into, now) => mergeViewers(db, channel, from, into, now),

    ingest: db.transaction((jobs: IngestJob[]) => jobs.map(applyJob)),

    getPurchase: (channel, orderId) => repo.getPurchase(channel, orderId),
    recordPurchase: db.transaction(recordOne),
    // many purchases, one transaction (the merchant API's group commit, services/commerce.ts)
    recordPurchases: db.transaction((records: PurchaseRecord[]) => {
      const out = records.map((r) => recordOne(r, false));
      const refreshed = new Set<string>();
      for (const [i, r] of out.entries()) {
        const p = records[i]!.purchase;
        const k = `${p.channel}\u0000${p.viewerId}`;
        if (!r.inserted || refreshed.has(k)) continue;
        refreshed.add(k);
        viewers.refreshValue(p.channel, p.viewerId);
      }
      return out;
    }),
    refund: db.transaction((channel: string, orderId: string, refundedTotal: number) => {
      const row = viewers.purchaseForRefund(channel, orderId);
      if (!row) return;
      const before = repo.getPurchase(channel, orderId)!;
      viewers.setRefunded(channel, orderId, refundedTotal);
      viewers.refreshValue(channel, row.viewerId);
      const now = Date.now();
      if (refundedTotal > before.refunded) hooks.fanOut([purchaseRefunded(before, refundedTotal, now)], now);
    }),
    boughtHere: (channel, streamId, viewerId) => campaigns.boughtHere(channel, streamId, viewerId),

    pendingOffers: (channel, viewerId, now) => repo.pendingOffers(channel, viewerId, now),
    offerByCode: (code) => repo.offerByCode(code),
    redeem: db.transaction(redeemCode),

    ensureCampaigns: db.transaction((streamId: string, channel: string, docs: Parameters<Store['ensureCampaigns']>[2], now: number) => {
      for (const d of docs) campaigns.insert({ streamId, id: d.id, channel, doc: d.doc, now });
    }),
    insertCampaign: (c) => campaigns.insert(c),
    getCampaign: (streamId, id) => campaigns.get(streamId, id),
    listCampaigns: (streamId) => campaigns.list(streamId),
    listTriggered: (streamId) => campaigns.listTriggered(streamId),
    updateCampaign: (streamId, id, doc, status, now) => campaigns.update(streamId, id, doc, status, now),
    issueOffers: db.transaction(issue),
    saveHostHistory: (streamId, h, keep) => history.save(streamId, h, keep),
    hostHistory: (streamId, maxItems) => history.load(streamId, maxItems),
    claimJobs: db.transaction((now: number, limit: number, leaseMs: number) => jobs.claim(now, limit, leaseMs)),
    finishJob: (id, armedAt) => jobs.finish(id, armedAt),
    finishJobs: db.transaction((js: readonly { id: string; armedAt: number }[]) => {
      for (const j of js) jobs.finish(j.id, j.armedAt);
    }),
    retryJob: (id, armedAt, runAt) => jobs.retry(id, armedAt, runAt),
    pruneJobEffects: (before) => jobs.prune(before),
    campaignFunnel: (streamId, campaign) => campaigns.funnel(streamId, campaign),
    campaignArms: (streamId, campaign, channel, windowMs) => campaigns.arms(streamId, campaign, channel, windowMs),

    funnel: (channel, streamId) => dashboard.funnel(channel, streamId),
    streamEngagement: (channel, streamId, startedAt, capMs) => dashboard.engagement(channel, streamId, startedAt, capMs),
    openPoll: (streamId, poll, now) => dashboard.openPoll(streamId, poll, now),
    latestPoll: (streamId) => dashboard.latestPoll(streamId),
    openPollFor: (streamId, viewerId, now) => dashboard.openPollFor(streamId, viewerId, now),
    polls: (streamId) => dashboard.polls(streamId),
    pollCounts: (streamId, pollId, closesAt) => dashboard.pollCounts(streamId, pollId, closesAt),
    campaignCounts: (streamId) => dashboard.campaignCounts(streamId),
    topBuyers: (streamId, limit) => dashboard.topBuyers(streamId, limit),

    purgeEvents: (cutoff, batch) => events.purge(cutoff, batch),

    listChannels: () => lifecycle.listChannels(),
    getChannelCurrency: (channel) => lifecycle.getChannelCurrency(channel),
    claimChannelCurrency: (channel, currency) => lifecycle.claimChannelCurrency(channel, currency),
    lifecycleDue: (channel, cut, after, limit) => lifecycle.lifecycleDue(channel, cut, after, limit),

    getModel: (channel, now) => models.getModel(channel, now),
    claimModelFit: (channel, now, until) => models.claimModelFit(channel, now, until),
    saveModel: db.transaction((channel: string, model: ChannelModel, predictions?: StoredPrediction[]) => models.saveModel(channel, model, predictions)),
    releaseModelFit: (channel) => models.releaseModelFit(channel),
    modelsDue: (before, now, limit) => models.modelsDue(before, now, limit),
    channelPurchases: (channel, now) => models.channelPurchases(channel, now),
    buyerEngagement: (channel) => models.buyerEngagement(channel),

    touchStreams: (ids, now) => hooks.touchStreams(ids, now),
    idleStreams: (before, limit) => hooks.idleStreams(before, limit, streamFrom),
    endStream: db.transaction((streamId: string, now: number, event: Parameters<Store['endStream']>[2], peakConnected?: number) => {
      const r = hooks.end(streamId, now);
      if (r?.now) {
        overview.snapshot(streamId, now, peakConnected ?? null);
        hooks.fanOut([event(repo.getStream(streamId)!)], now);
      }
      return r;
    }),

    rotateChannelKey: (channel, hash, until, now) => overview.rotateKey(channel, hash, until, now),
    channelForKey: (hash, now) => overview.channelForKey(hash, now),
    channelStreams: (channel, limit) => overview.streams(channel, limit),
    tierMovesNow: (channel, streamId) => overview.movesNow(channel, streamId),
    channelTiers: (channel) => overview.channelTiers(channel),
    createWebhook: (w) => hooks.create(w),
    listWebhooks: (channel) => hooks.list(channel),
    getWebhook: (channel, id) => hooks.get(channel, id),
    updateWebhook: db.transaction((channel: string, id: string, patch: Parameters<Store['updateWebhook']>[2], now: number) => hooks.update(channel, id, patch, now)),
    deleteWebhook: db.transaction((channel: string, id: string) => hooks.remove(channel, id)),
    enqueueWebhooks: db.transaction((events: Parameters<Store['enqueueWebhooks']>[0], now: number, only?: string) => (only ? hooks.fanOutTo(only, events, now) : hooks.fanOut(events, now))),
    claimDeliveries: db.transaction((now: number, limit: number, leaseMs: number) => hooks.claim(now, limit, leaseMs)),
    finishDelivery: db.transaction((id: string, a: Parameters<Store['finishDelivery']>[1]) => hooks.finish(id, a)),
    listDeliveries: (channel, webhookId, limit) => hooks.deliveries(channel, webhookId, limit),
    pruneDeliveries: (before) => hooks.prune(before),
  };

  const fail = (err: unknown) => storeError(db, err);

  return {
    kind: 'sqlite',
    db,
    ...asAsync(ops, fail),
    /**
     * A page at a time, each page one complete statement: a better-sqlite3 iterator left open
     * across the consumer's awaits would keep the connection busy for every other operation.
     */
    async *csvRows(channel: string, streamId: string): AsyncGenerator<CsvViewerRow> {
      let after: CsvCursor = null;
      do {
        let page;
        try {
          page = dashboard.csvPage(channel, streamId, after);
        } catch (err) {
          throw fail(err);
        }
        yield* page.rows;
        after = page.next;
      } while (after);
    },
  };
}
