/**
 * The engine joins the parts: ingest (through the group-commit writer), the tier model, the offer
 * playbook and the live state of each stream. It does no network I/O: the realtime layer
 * subscribes to its hooks (`offer`, `changed`) and does the sending.
 */
import { randomUUID } from 'node:crypto';
import type { Repo, OfferRow, StreamRow, Deltas, PurchaseRow } from './store/sqlite/repo.js';
import { zeroDeltas } from './store/sqlite/repo.js';
import { GroupCommitWriter } from './store/writer.js';
import { mergeViewers, type AliasResult } from './store/sqlite/alias.js';
import type { ValidEvent } from './ingest/schema.js';
import { creditWatch } from './ingest/watch.js';
import { emptyEngagement, type TierRules, DEFAULT_RULES } from './tiering/model.js';
import { OfferService } from './offers/service.js'; // issue 4
// issue 3: the tiering engine (channel models, scores, lifecycle, refunds, export/erasure)
import { TierModel, type Evaluation } from './tiering/channel.js';
import { rulesDoc, type TierRulesDoc } from './tiering/rules.js';
import type { Scores } from './tiering/rfm.js';
import { addActivity, addCheckout, addOffer, addPurchase, activityWeight, offerEngaged, refundPurchase, seen, noActivity, RECENT_KEPT, type ViewerState } from './tiering/state.js';
import { createViewerStore, type ViewerStore } from './store/sqlite/viewers.js';
import type { Lifecycle, LifecycleCounts } from './realtime/events.js';
import type { OfferPayload, StreamSummary, Tier, TierCounts, TrackAck, Discount } from './realtime/events.js';
import type { ActivityItem } from './realtime/events.js'; // issue 6

export type Clock = () => number;

/** A viewer's cached state in one channel (issue 3: the model's ViewerState plus the live results). */
interface Profile extends ViewerState {
  channel: string;
  viewerId: string;
  tier: Tier;
  lifecycle: Lifecycle;
  scores: Scores;
  reasons: string[];
  currency: string;
  /** streams this viewer has at least one socket in */
  streams: Set<string>;
}

interface Presence {
  sockets: number;
  /** this stream's credited watch time, for the watch milestone */
  watchMs: number;
  /** server time of the last credited heartbeat (or of joining): the base of the next credit */
  lastCreditAt: number;
}

interface StreamLive {
  stream: StreamRow;
  present: Map<string, Presence>;
  tiers: TierCounts;
  /** issue 3: connected viewers by lifecycle */
  lifecycle: LifecycleCounts;
  audience: number;
  orders: number;
  gmv: number;
  offers: { issued: number; delivered: number; redeemed: number };
}

type ReasonsJob = { kind: 'reasons'; channel: string; viewerId: string; tier: Tier; reasons: string[]; lifecycle?: Lifecycle };
type Job =
  | { kind: 'join'; streamId: string; channel: string; viewerId: string; verified: boolean; now: number }
  | { kind: 'track'; streamId: string; channel: string; viewerId: string; events: ValidEvent[]; now: number }
  | { kind: 'delivered'; offerId: string; now: number }
  | ReasonsJob;

interface JobResult {
  firstTime?: boolean;
  accepted: ValidEvent[];
  duplicates: number;
  watchCredited: number;
}

export interface EngineHooks {
  /** an offer to push to its viewer (delivery is the realtime layer's job) */
  offer: (offer: OfferRow) => void;
  /** something a host sees in this stream changed */
  changed: (streamId: string) => void;
  /** issue 6: a line for the host's activity feed (a purchase, a tier change, a comment) */
  activity: (streamId: string, item: ActivityEvent) => void;
}

/** issue 6: what the engine reports to the host's activity feed (the realtime layer numbers and keeps them) */
export type ActivityEvent = DistributiveOmit<ActivityItem, 'id'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type RedeemResult =
  | { status: 200; offer: OfferRow }
  | { status: 403 | 404 | 409 | 410; message: string };

export interface PurchaseInput {
  orderId: string;
  viewerId: string;
  amount: number;
  currency: string;
  items?: unknown[];
  couponCode?: string;
  at?: number;
}

export type PurchaseResult =
  | { status: 200 | 201; purchase: PurchaseRow; coupon?: { code: string; status: string } }
  | { status: 409; message: string };

const MAX_CACHED_PROFILES = 100_000;

export class Engine {
  readonly writer: GroupCommitWriter<Job, JobResult>;
  private readonly profiles = new Map<string, Profile>();
  private readonly streams = new Map<string, StreamLive>();
  private hooks: EngineHooks = { offer: () => {}, changed: () => {}, activity: () => {} };
  /** issue 4: campaigns, triggers, caps, holdouts (server/offers/service.ts) */
  readonly campaigns: OfferService;
  /** issue 3: tiering store code and the per-channel tier models */
  readonly viewerStore: ViewerStore;
  private readonly models = new Map<string, TierModel>();
  /** issue 7: each viewer's queued reasons-only write, updated in place until it commits (one write per viewer per commit) */
  private readonly queuedReasons = new Map<string, ReasonsJob>();

  constructor(
    private readonly repo: Repo,
    private readonly clock: Clock,
    private readonly rules: TierRules = DEFAULT_RULES,
  ) {
    this.viewerStore = createViewerStore(repo.db); // issue 3
    this.writer = new GroupCommitWriter<Job, JobResult>(repo.db, (jobs) => jobs.map((j) => this.applyJob(j)), (jobs, results) =>
      jobs.forEach((j, i) => this.afterJob(j, results[i]!)),
    );
    // issue 4: the campaign machinery; it decides and commits, the engine pushes and counts
    this.campaigns = new OfferService({
      db: repo.db,
      clock,
      viewer: (channel, viewerId) => {
        const p = this.profile(channel, viewerId);
        return { tier: p.tier, lifecycle: p.lifecycle, currency: p.currency };
      },
      connected: (streamId) => this.live(streamId)?.present.keys() ?? [],
      issued: (offer) => {
        const holder = this.profiles.get(this.key(offer.channel, offer.viewerId));
        if (holder) addOffer(holder, offer); // issue 3: for "several offers ignored"
        const live = this.streams.get(offer.streamId);
        if (live) live.offers.issued++;
        this.hooks.offer(offer);
        this.hooks.changed(offer.streamId);
      },
    });
    this.campaigns.restoreCarts(clock()); // issue 4: carts survive a restart
  }

  setHooks(hooks: Partial<EngineHooks>) {
    this.hooks = { ...this.hooks, ...hooks };
  }

  // ---------------------------------------------------------------- streams

  live(streamId: string): StreamLive | null {
    let live = this.streams.get(streamId);
    if (live) return live;
    const stream = this.repo.getStream(streamId);
    if (!stream) return null;
    const sales = this.repo.streamSales(streamId);
    live = {
      stream,
      present: new Map(),
      tiers: { high: 0, mid: 0, potential: 0 },
      lifecycle: { new: 0, active: 0, at_risk: 0, lapsed: 0 },
      audience: this.repo.audience(streamId),
      orders: sales.orders,
      gmv: sales.gmv,
      offers: this.repo.offerCounts(streamId),
    };
    this.streams.set(streamId, live);
    return live;
  }

  summary(streamId: string): StreamSummary | null {
    const live = this.live(streamId);
    if (!live) return null;
    return {
      streamId,
      title: live.stream.title,
      channel: live.stream.channel,
      tiers: { ...live.tiers },
      connected: live.present.size,
      audience: live.audience,
      orders: live.orders,
      gmv: live.gmv,
      offers: { ...live.offers },
      lifecycle: { ...live.lifecycle },
      updatedAt: this.clock(),
    };
  }

  /** Tier of a viewer as of now (loads the profile if needed). */
  tierOf(channel: string, viewerId: string): { tier: Tier; reasons: string[] } {
    const p = this.profile(channel, viewerId);
    this.retier(p, this.clock());
    return { tier: p.tier, reasons: p.reasons };
  }

  // ---------------------------------------------------------------- viewers

  private key(channel: string, viewerId: string) {
    return `${channel}\u0000${viewerId}`;
  }

  private profile(channel: string, viewerId: string): Profile {
    const k = this.key(channel, viewerId);
    let p = this.profiles.get(k);
    if (p) return p;
    // issue 3: one viewer's rows, loaded once: the viewer, their purchases, recent checkouts and offers
    const row = this.repo.getViewer(channel, viewerId);
    const purchases = this.repo.viewerPurchases(channel, viewerId);
    const now = this.clock();
    p = {
      channel,
      viewerId,
      purchases: purchases.map(({ orderId, amount, at }) => ({ orderId, amount, at })),
      engagement: row
        ? { watchMs: row.watchMs, comments: row.comments, likes: row.likes, productViews: row.productViews, addToCarts: row.addToCarts }
        : emptyEngagement(),
      engWeighted: row?.engWeighted ?? 0,
      firstSeenAt: row?.firstSeenAt ?? now,
      lastSeenAt: row?.lastSeenAt ?? now,
      checkouts: row ? this.viewerStore.recentCheckouts(channel, viewerId, RECENT_KEPT) : [],
      offers: row ? this.viewerStore.recentOffers(channel, viewerId, RECENT_KEPT) : [],
      tier: row?.tier ?? 'potential',
      lifecycle: (row?.lifecycle as Lifecycle | undefined) ?? 'new',
      scores: { recency: null, frequency: null, monetary: null, engagement: 1 },
      reasons: row?.reasons ?? [],
      currency: purchases[purchases.length - 1]?.currency ?? 'CNY',
      streams: new Set(),
    };
    this.profiles.set(k, p);
    this.evictProfiles();
    return p;
  }

  private evictProfiles() {
    if (this.profiles.size <= MAX_CACHED_PROFILES) return;
    for (const [k, p] of this.profiles) {
      if (this.profiles.size <= MAX_CACHED_PROFILES * 0.9) break;
      if (p.streams.size === 0) this.profiles.delete(k);
    }
  }

  /**
   * Recomputes one viewer's tier, scores and lifecycle (incremental: only this viewer's data, and
   * their entry in the channel's RFM distribution). Returns the previous tier when it changed.
   */
  private retier(p: Profile, now: number): Tier | null {
    const ev: Evaluation = this.model(p.channel).assess(p.viewerId, p, now);
    const { tier, reasons, lifecycle } = ev;
    p.scores = ev.scores;
    const before = p.tier;
    const lifeBefore = p.lifecycle;
    const reasonsChanged = reasons.join('\n') !== p.reasons.join('\n');
    if (tier === before && lifecycle === lifeBefore && !reasonsChanged) return null;
    p.tier = tier;
    p.lifecycle = lifecycle;
    p.reasons = reasons;
    const k = this.key(p.channel, p.viewerId);
    const queued = this.queuedReasons.get(k);
    if (queued) {
      // a write still waiting for the next commit takes the newest values (and never brings back an older tier)
      queued.tier = tier;
      queued.reasons = reasons;
      queued.lifecycle = lifecycle;
    }
    if (tier === before && lifecycle === lifeBefore) {
      // only the numbers in the reasons moved (e.g. minutes watched): batch the write
      if (queued) return null;
      const job: ReasonsJob = { kind: 'reasons', channel: p.channel, viewerId: p.viewerId, tier, reasons, lifecycle };
      this.queuedReasons.set(k, job);
      void this.writer.submit(job).catch(() => {
        if (this.queuedReasons.get(k) === job) this.queuedReasons.delete(k); // a failed batch: the next change queues anew
      });
      return null;
    }
    this.repo.setTier(p.channel, p.viewerId, tier, reasons, lifecycle);
    for (const sid of p.streams) {
      const live = this.streams.get(sid);
      if (!live) continue;
      live.tiers[before]--;
      live.tiers[tier]++;
      live.lifecycle[lifeBefore]--;
      live.lifecycle[lifecycle]++;
      if (tier !== before) this.hooks.activity(sid, { type: 'tier', at: now, viewerId: p.viewerId, from: before, to: tier }); // issue 6
      this.hooks.changed(sid);
    }
    return tier === before ? null : before;
  }

  /** A viewer's socket joined a stream. Resolves after the visit is committed. */
  async join(streamId: string, viewerId: string, verified: boolean): Promise<void> {
    const live = this.live(streamId);
    if (!live) throw new Error(`unknown stream ${streamId}`);
    const now = this.clock();
    await this.writer.submit({ kind: 'join', streamId, channel: live.stream.channel, viewerId, verified, now });
  }

  leave(streamId: string, viewerId: string) {
    const live = this.streams.get(streamId);
    const pres = live?.present.get(viewerId);
    if (!live || !pres) return;
    if (--pres.sockets > 0) return;
    live.present.delete(viewerId);
    const p = this.profiles.get(this.key(live.stream.channel, viewerId));
    if (p) {
      p.streams.delete(streamId);
      live.tiers[p.tier]--;
      live.lifecycle[p.lifecycle]--; // issue 3
    }
    this.hooks.changed(streamId);
  }

  /** Persists a batch of valid events from one viewer; resolves after the commit. */
  async track(streamId: string, viewerId: string, events: ValidEvent[]): Promise<Pick<TrackAck, 'accepted' | 'duplicates'>> {
    const live = this.live(streamId);
    if (!live) throw new Error(`unknown stream ${streamId}`);
    if (events.length === 0) return { accepted: 0, duplicates: 0 };
    const r = await this.writer.submit({ kind: 'track', streamId, channel: live.stream.channel, viewerId, events, now: this.clock() });
    return { accepted: r.accepted.length, duplicates: r.duplicates };
  }

  private applyJob(job: Job): JobResult {
    const res: JobResult = { accepted: [], duplicates: 0, watchCredited: 0 };
    if (job.kind === 'join') {
      res.firstTime = this.repo.touchViewer(job.channel, job.streamId, job.viewerId, job.verified, job.now);
      return res;
    }
    if (job.kind === 'delivered') {
      this.repo.markDelivered(job.offerId, job.now);
      return res;
    }
    if (job.kind === 'reasons') {
      const k = this.key(job.channel, job.viewerId);
      if (this.queuedReasons.get(k) === job) this.queuedReasons.delete(k);
      this.repo.setTier(job.channel, job.viewerId, job.tier, job.reasons, job.lifecycle);
      return res;
    }
    const { streamId, channel, viewerId, now } = job;
    const pres = this.streams.get(streamId)?.present.get(viewerId);
    const d: Deltas = zeroDeltas();
    let likeEvents = 0; // issue 3: engagement points count like events, not like counts
    // a viewer whose socket left before its batch committed: credit from now (nothing)
    let lastCreditAt = pres?.lastCreditAt ?? now;
    for (const ev of job.events) {
      let credit: number | null = null;
      if (ev.type === 'watch') {
        credit = creditWatch(ev.data.engagedMs, lastCreditAt, now);
      }
      const data = ev.data && Object.keys(ev.data).length ? JSON.stringify(ev.data) : null;
      if (!this.repo.insertEvent(streamId, ev.id, viewerId, ev.type, Math.floor(ev.ts), now, credit, data)) {
        res.duplicates++;
        continue;
      }
      res.accepted.push(ev);
      switch (ev.type) {
        case 'watch':
          lastCreditAt = now;
          d.watchMs += credit!;
          break;
        case 'comment': d.comments++; break;
        case 'like': d.likes += ev.data.count ?? 1; likeEvents++; break;
        case 'product_view': d.productViews++; break;
        case 'add_to_cart': d.addToCarts++; break;
        case 'checkout': d.checkouts++; break;
        case 'purchase': d.browserPurchases++; break; // funnel only: never money
        case 'offer_seen': this.repo.markSeen(ev.data.offerId, channel, viewerId, now); break;
        case 'offer_click': this.repo.markClicked(ev.data.offerId, channel, viewerId, now); break;
      }
    }
    if (pres) pres.lastCreditAt = lastCreditAt;
    res.watchCredited = d.watchMs;
    d.engWeighted = activityWeight({ ...d, likeEvents }, now); // issue 3: recency-weighted engagement
    if (res.accepted.length) this.repo.addDeltas(channel, streamId, viewerId, d, now);
    return res;
  }

  private afterJob(job: Job, res: JobResult) {
    if (job.kind === 'delivered' || job.kind === 'reasons') return;
    const live = this.streams.get(job.streamId);
    if (!live) return;
    const p = this.profile(job.channel, job.viewerId);
    if (job.kind === 'join') {
      let pres = live.present.get(job.viewerId);
      if (!pres) {
        const vs = this.repo.getViewerStream(job.streamId, job.viewerId);
        pres = { sockets: 0, watchMs: vs?.watch_ms ?? 0, lastCreditAt: job.now };
        live.present.set(job.viewerId, pres);
        p.streams.add(job.streamId);
        seen(p, job.now); // issue 3
        this.retier(p, job.now);
        live.tiers[p.tier]++;
        live.lifecycle[p.lifecycle]++; // issue 3
      }
      pres.sockets++;
      if (res.firstTime) live.audience++;
      this.hooks.changed(job.streamId);
      return;
    }
    if (!res.accepted.length) return;
    // issue 3: the profile learns what was committed (the same numbers applyJob wrote)
    const a = noActivity();
    a.watchMs = res.watchCredited;
    for (const ev of res.accepted) {
      if (ev.type === 'comment') {
        a.comments++;
        this.hooks.activity(job.streamId, { type: 'comment', at: job.now, viewerId: job.viewerId, text: ev.data.text }); // issue 6
      }
      else if (ev.type === 'like') (a.likes += ev.data.count ?? 1), a.likeEvents++;
      else if (ev.type === 'product_view') a.productViews++;
      else if (ev.type === 'add_to_cart') a.addToCarts++;
      else if (ev.type === 'checkout') addCheckout(p, job.now);
      else if (ev.type === 'offer_click') offerEngaged(p, ev.data.offerId);
    }
    addActivity(p, a, job.now);
    const from = this.retier(p, job.now);
    if (from !== null) this.campaigns.tierChanged(live.stream, job.viewerId, from, p.tier, job.now); // issue 4
    // issue 4: carts for cart_abandoned (a purchase event from the viewer's own client closes the cart)
    for (const ev of res.accepted) {
      if (ev.type === 'add_to_cart') this.campaigns.cartAdded(live.stream, job.viewerId, job.now);
      else if (ev.type === 'purchase') this.campaigns.bought(job.channel, job.viewerId);
    }
    const pres = live.present.get(job.viewerId);
    if (pres && res.watchCredited > 0) {
      const before = pres.watchMs;
      pres.watchMs += res.watchCredited;
      this.campaigns.watched(live.stream, job.viewerId, before, pres.watchMs, job.now); // issue 4: watch_milestone
    }
    this.hooks.changed(job.streamId);
  }

  // ---------------------------------------------------------------- offers

  /** Offers issued to this viewer (any stream of the channel) that no client has acknowledged yet and that are still valid. */
  pendingOffers(channel: string, viewerId: string): OfferRow[] {
    return this.repo.pendingOffers(channel, viewerId, this.clock());
  }

  /** A client acknowledged an offer. */
  delivered(offer: OfferRow) {
    if (offer.deliveredAt) return;
    offer.deliveredAt = this.clock();
    const live = this.streams.get(offer.streamId);
    if (live) live.offers.delivered++;
    void this.writer.submit({ kind: 'delivered', offerId: offer.id, now: offer.deliveredAt }).catch(() => {});
    this.hooks.changed(offer.streamId);
  }

  payload(o: OfferRow): OfferPayload {
    return {
      id: o.id,
      code: o.code,
      title: o.title,
      ...(o.description ? { description: o.description } : {}),
      discount: { kind: o.discountKind, value: o.discountValue },
      ...(o.minSpend != null ? { minSpend: o.minSpend } : {}),
      currency: o.currency,
      expiresAt: o.expiresAt,
      serverNow: this.clock(),
      campaign: o.campaign,
      ...(o.maxDiscount != null ? { maxDiscount: o.maxDiscount } : {}), // issue 4
      ...(o.skus ? { skus: o.skus } : {}),
    };
  }

  /** A host's one-click push: an offer to every viewer of `tier` connected to the stream now. */
  pushToTier(streamId: string, tier: Tier, offer: { title: string; description?: string; discount: Discount; ttlSeconds: number; minSpend?: number }) {
    const live = this.live(streamId);
    if (!live) throw new Error(`unknown stream ${streamId}`);
    // issue 4: an ad-hoc manual campaign (caps and limits apply); `skipped` counts every viewer of the tier not sent to
    const r = this.campaigns.push(live.stream, tier, offer);
    return { sent: r.sent, skipped: r.skippedTotal };
  }

  /** issue 4: time passed (a timer in app.ts; tests call it with their clock): cart_abandoned campaigns fire. */
  tick(now = this.clock()) {
    this.campaigns.sweep(now, (id) => this.live(id)?.stream ?? null);
  }

  redeem(channel: string, code: string, orderId: string, viewerId: string): RedeemResult {
    const offer = this.repo.offerByCode(code);
    if (!offer || offer.channel !== channel) return { status: 404, message: 'unknown coupon code' };
    if (offer.viewerId !== viewerId) return { status: 403, message: 'this code belongs to another viewer' };
    if (offer.redeemedAt) {
      return offer.redeemedOrder === orderId
        ? { status: 200, offer }
        : { status: 409, message: `code already redeemed by order ${offer.redeemedOrder}` };
    }
    const now = this.clock();
    if (now >= offer.expiresAt) return { status: 410, message: 'this code has expired' };
    if (!this.repo.redeem(offer.id, orderId, now)) return { status: 409, message: 'code already redeemed' };
    const holder = this.profiles.get(this.key(channel, viewerId));
    if (holder) offerEngaged(holder, offer.id); // issue 3: a redeemed offer is not ignored
    const live = this.streams.get(offer.streamId);
    if (live) {
      live.offers.redeemed++;
      this.hooks.changed(offer.streamId);
    }
    return { status: 200, offer: { ...offer, redeemedAt: now, redeemedOrder: orderId } };
  }

  // ---------------------------------------------------------------- purchases

  /** A verified purchase reported by the merchant's backend (ingest key of `streamId`). */
  recordPurchase(streamId: string, input: PurchaseInput): PurchaseResult {
    const live = this.live(streamId);
    if (!live) throw new Error(`unknown stream ${streamId}`);
    const { channel } = live.stream;
    const now = this.clock();
    const existing = this.repo.getPurchase(channel, input.orderId);
    if (existing) {
      if (existing.viewerId !== input.viewerId || existing.amount !== input.amount || existing.currency !== input.currency) {
        return { status: 409, message: `order ${input.orderId} was already recorded with a different viewer, amount or currency` };
      }
      return { status: 200, purchase: existing };
    }
    const purchase: PurchaseRow = {
      channel,
      orderId: input.orderId,
      streamId,
      viewerId: input.viewerId,
      amount: input.amount,
      refunded: 0,
      currency: input.currency,
      items: input.items ?? null,
      couponCode: input.couponCode ?? null,
      at: input.at ?? now,
      createdAt: now,
    };
    let coupon: { code: string; status: string } | undefined;
    const cached = this.profiles.get(this.key(channel, input.viewerId));
    this.repo.db.transaction(() => {
      this.repo.ensureViewer(channel, input.viewerId, purchase.at, now);
      this.repo.insertPurchase(purchase);
      if (input.couponCode) {
        const r = this.redeem(channel, input.couponCode, input.orderId, input.viewerId);
        const status = r.status === 200 ? 'redeemed' : { 403: 'other_viewer', 404: 'not_found', 409: 'already_redeemed', 410: 'expired' }[r.status];
        coupon = { code: input.couponCode, status };
      }
    })();
    live.orders++;
    live.gmv += purchase.amount;
    // issue 6: the host's activity feed
    this.hooks.activity(streamId, { type: 'purchase', at: now, viewerId: input.viewerId, orderId: input.orderId, amount: purchase.amount, currency: purchase.currency });
    this.viewerStore.refreshValue(channel, input.viewerId); // issue 3: the list's value columns
    // a cached profile learns of the purchase here; an uncached one loads it from the database
    if (cached) addPurchase(cached, { orderId: purchase.orderId, amount: purchase.amount, at: purchase.at });
    const p = cached ?? this.profile(channel, input.viewerId);
    p.currency = purchase.currency;
    const before = this.retier(p, now);
    // issue 4: tier_entered and purchase campaigns
    if (before !== null) this.campaigns.tierChanged(live.stream, input.viewerId, before, p.tier, now);
    const skus = (input.items ?? []).flatMap((i) => (i && typeof (i as { sku?: unknown }).sku === 'string' ? [(i as { sku: string }).sku] : []));
    this.campaigns.purchased(live.stream, input.viewerId, skus, now);
    this.hooks.changed(streamId);
    return { status: 201, purchase, ...(coupon ? { coupon } : {}) };
  }

  // ---------------------------------------------------------------- tiering (issue 3)

  /** The channel's tier model, loaded once: its rules and every buyer's RFM values (one grouped query). */
  private model(channel: string): TierModel {
    let m = this.models.get(channel);
    if (m) return m;
    const stored = this.viewerStore.getRules(channel) as TierRulesDoc | null;
    m = new TierModel(stored ?? rulesDoc(this.rules));
    const now = this.clock();
    const since = now - m.rules.lookbackDays * 86_400_000;
    for (const b of this.viewerStore.buyers(channel, since, now)) {
      m.register(b.viewer_id, { orders: b.orders, spend: b.spend, lastAt: b.last_at });
    }
    this.models.set(channel, m);
    return m;
  }

  /** The rules in force for a channel. */
  tierRules(channel: string): TierRulesDoc {
    return this.model(channel).rules;
  }

  /**
   * New rules for a channel: stored, then every connected viewer of the channel is re-tiered at once
   * (hosts see it; one who changes tier fires tier_entered campaigns), and the channel's other
   * viewers in the background, in slices (offline: no offer).
   */
  setTierRules(channel: string, doc: TierRulesDoc): Promise<void> {
    const now = this.clock();
    this.viewerStore.setRules(channel, doc, now);
    const m = this.model(channel);
    const lookbackChanged = m.rules.lookbackDays !== doc.lookbackDays;
    m.setRules(doc);
    if (lookbackChanged) {
      // the distribution is over another window now: rebuild it
      this.models.delete(channel);
      this.model(channel);
    }
    for (const p of this.profiles.values()) {
      if (p.channel !== channel || p.streams.size === 0) continue;
      const from = this.retier(p, now);
      if (from === null) continue;
      // issue 4: a connected viewer the new rules move enters a tier like any other (tier_entered campaigns, caps apply)
      for (const sid of p.streams) {
        const live = this.streams.get(sid);
        if (live) this.campaigns.tierChanged(live.stream, p.viewerId, from, p.tier, now);
      }
    }
    const ids = this.viewerStore.channelViewerIds(channel);
    return new Promise((resolve) => {
      const slice = (from: number) => {
        const t = this.clock();
        this.repo.db.transaction(() => {
          for (const id of ids.slice(from, from + 500)) {
            const cached = this.profiles.get(this.key(channel, id));
            const p = cached ?? this.profile(channel, id);
            this.retier(p, t);
            if (!cached && p.streams.size === 0) this.profiles.delete(this.key(channel, id));
          }
        })();
        if (from + 500 < ids.length) setImmediate(() => slice(from + 500));
        else resolve();
      };
      slice(0);
    });
  }

  /** Whether the viewer is known in the channel (a viewer row exists: a visit or a purchase; not merely a cached lookup). */
  knows(channel: string, viewerId: string): boolean {
    return this.repo.getViewer(channel, viewerId) !== null;
  }

  /** A viewer's tier, lifecycle, scores, reasons and lifetime stats as of now; null when unknown. */
  viewerDetail(channel: string, viewerId: string) {
    if (!this.knows(channel, viewerId)) return null;
    const p = this.profile(channel, viewerId);
    this.retier(p, this.clock());
    let purchases = 0;
    let spend = 0;
    let lastPurchaseAt: number | null = null;
    for (const o of p.purchases) {
      spend += o.amount;
      if (o.amount > 0) {
        purchases++;
        if (lastPurchaseAt === null || o.at > lastPurchaseAt) lastPurchaseAt = o.at;
      }
    }
    return {
      tier: p.tier,
      lifecycle: p.lifecycle,
      reasons: p.reasons,
      scores: { ...p.scores },
      stats: {
        ...p.engagement,
        purchases,
        spend,
        firstSeenAt: p.firstSeenAt,
        lastSeenAt: p.lastSeenAt,
        lastPurchaseAt,
      },
    };
  }

  /**
   * A refund reported by the merchant (`refundedTotal`: the order's refunded amount so far, so a
   * repeated report changes nothing). Lowers the viewer's spend and the stream's GMV; re-tiers.
   */
  refund(channel: string, orderId: string, refundedTotal: number | undefined):
    | { status: 200; orderId: string; viewerId: string; amount: number; refunded: number; currency: string }
    | { status: 400 | 404 | 409; message: string } {
    const row = this.viewerStore.purchaseForRefund(channel, orderId);
    if (!row) return { status: 404, message: `unknown order ${orderId}` };
    const total = refundedTotal ?? row.amount;
    if (total > row.amount) return { status: 400, message: `body.amount ${total} is more than the order's amount ${row.amount}` };
    if (total < row.refunded) return { status: 409, message: `order ${orderId} already has ${row.refunded} refunded; a refund cannot be undone` };
    const purchase = this.repo.getPurchase(channel, orderId)!;
    if (total !== row.refunded) {
      const delta = total - row.refunded;
      this.repo.db.transaction(() => {
        this.viewerStore.setRefunded(channel, orderId, total);
        this.viewerStore.refreshValue(channel, row.viewerId);
      })();
      const live = this.streams.get(row.streamId);
      if (live) {
        live.gmv -= delta;
        this.hooks.changed(row.streamId);
      }
      // a cached profile learns of the refund here; an uncached one loads the net amounts (and is re-tiered, so the stored tier follows)
      const cached = this.profiles.get(this.key(channel, row.viewerId));
      if (cached) refundPurchase(cached, orderId, row.amount, total);
      const p = cached ?? this.profile(channel, row.viewerId);
      const before = this.retier(p, this.clock());
      if (before !== null) this.campaigns.tierChanged(this.live(row.streamId)!.stream, row.viewerId, before, p.tier, this.clock()); // issue 4
    }
    return { status: 200, orderId, viewerId: row.viewerId, amount: row.amount, refunded: total, currency: purchase.currency };
  }

  /** Everything stored about a viewer in a channel (GDPR export); null when unknown. */
  exportViewer(channel: string, viewerId: string) {
    const data = this.viewerStore.export(channel, viewerId);
    if (!data) return null;
    const detail = this.viewerDetail(channel, viewerId)!;
    return { channel, viewerId, exportedAt: this.clock(), tier: detail.tier, lifecycle: detail.lifecycle, reasons: detail.reasons, scores: detail.scores, ...data };
  }

  /**
   * Erases a viewer's personal data and events in a channel: they leave the live counts, the RFM
   * distribution and every list; later requests for them are 404. The caller disconnects their
   * sockets first. Returns false when the viewer was unknown.
   */
  erase(channel: string, viewerId: string): boolean {
    // commit what is queued first, so no job for this viewer lands (or reloads their profile) after the erasure
    this.writer.flushAll();
    const k = this.key(channel, viewerId);
    const p = this.profiles.get(k);
    if (p) {
      for (const sid of p.streams) {
        const live = this.streams.get(sid);
        if (!live || !live.present.delete(viewerId)) continue;
        live.tiers[p.tier]--;
        live.lifecycle[p.lifecycle]--;
        this.hooks.changed(sid);
      }
      this.profiles.delete(k);
    }
    this.model(channel).forget(viewerId);
    const erasedId = `erased:${randomUUID()}`;
    const known = this.viewerStore.erase(channel, viewerId, erasedId);
    for (const live of this.streams.values()) if (live.stream.channel === channel) live.audience = this.repo.audience(live.stream.id);
    return known || !!p;
  }

  // ---------------------------------------------------------------- alias (issue 5)

  /**
   * `identify()`: links an anonymous viewer's history (events, counters, unredeemed offers) to the
   * verified viewer, once per anonymous id (store/alias.ts). Both cached profiles are dropped so
   * they reload from SQLite; a profile still connected somewhere is reloaded at once and keeps
   * its presence, so the live tier counts stay right.
   */
  alias(channel: string, anonId: string, viewerId: string): AliasResult {
    const now = this.clock();
    // commit what is queued first, so the anonymous viewer's last events move with the rest
    this.writer.flushAll();
    const r = mergeViewers(this.repo.db, channel, anonId, viewerId, now);
    if (!r.merged) return r;
    for (const id of [anonId, viewerId]) {
      const k = this.key(channel, id);
      const cached = this.profiles.get(k);
      if (!cached) continue;
      this.profiles.delete(k);
      if (cached.streams.size === 0) continue;
      const fresh = this.profile(channel, id);
      fresh.streams = cached.streams;
      fresh.tier = cached.tier; // what the live counts hold; retier moves it if the merge changed it
      fresh.lifecycle = cached.lifecycle; // issue 3: likewise
      this.retier(fresh, now);
    }
    for (const live of this.streams.values()) {
      if (live.stream.channel !== channel) continue;
      live.audience = this.repo.audience(live.stream.id);
      this.hooks.changed(live.stream.id);
    }
    return r;
  }

  /** Commits what is queued; call before closing the database. */
  close() {
    this.writer.close();
  }
}
