/**
 * The engine joins the parts: ingest (through the group-commit writer), the tier model, the offer
 * playbook and the live state of each stream. It does no network I/O: the realtime layer
 * subscribes to its hooks (`offer`, `changed`) and does the sending.
 */
import { randomUUID } from 'node:crypto';
import type { Repo, OfferRow, StreamRow, Deltas, PurchaseRow } from './store/repo.js';
import { zeroDeltas } from './store/repo.js';
import { GroupCommitWriter } from './store/writer.js';
import { mergeViewers, type AliasResult } from './store/alias.js';
import type { ValidEvent } from './ingest/schema.js';
import { creditWatch } from './ingest/watch.js';
import { computeTier, emptyEngagement, type Engagement, type TierRules, DEFAULT_RULES, type VerifiedPurchase } from './tiering/model.js';
import { offerForTierChange, offerForWatch, type OfferTemplate } from './offers/playbook.js';
import { generateCode } from './offers/codes.js';
import type { OfferPayload, StreamSummary, Tier, TierCounts, TrackAck, Discount } from './realtime/events.js';
import type { ActivityItem } from './realtime/events.js'; // issue 6

export type Clock = () => number;

interface Profile {
  channel: string;
  viewerId: string;
  purchases: VerifiedPurchase[];
  engagement: Engagement;
  tier: Tier;
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
  audience: number;
  orders: number;
  gmv: number;
  offers: { issued: number; delivered: number; redeemed: number };
}

type Job =
  | { kind: 'join'; streamId: string; channel: string; viewerId: string; verified: boolean; now: number }
  | { kind: 'track'; streamId: string; channel: string; viewerId: string; events: ValidEvent[]; now: number }
  | { kind: 'delivered'; offerId: string; now: number }
  | { kind: 'reasons'; channel: string; viewerId: string; tier: Tier; reasons: string[] };

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

  constructor(
    private readonly repo: Repo,
    private readonly clock: Clock,
    private readonly rules: TierRules = DEFAULT_RULES,
  ) {
    this.writer = new GroupCommitWriter<Job, JobResult>(repo.db, (jobs) => jobs.map((j) => this.applyJob(j)), (jobs, results) =>
      jobs.forEach((j, i) => this.afterJob(j, results[i]!)),
    );
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
    const row = this.repo.getViewer(channel, viewerId);
    const purchases = this.repo.viewerPurchases(channel, viewerId);
    p = {
      channel,
      viewerId,
      purchases: purchases.map(({ orderId, amount, at }) => ({ orderId, amount, at })),
      engagement: row
        ? { watchMs: row.watchMs, comments: row.comments, likes: row.likes, productViews: row.productViews, addToCarts: row.addToCarts }
        : emptyEngagement(),
      tier: row?.tier ?? 'potential',
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

  /** Recomputes one viewer's tier (incremental: only this viewer's data). Returns the previous tier when it changed. */
  private retier(p: Profile, now: number): Tier | null {
    const { tier, reasons } = computeTier(p, now, this.rules);
    const before = p.tier;
    const reasonsChanged = reasons.join('\n') !== p.reasons.join('\n');
    if (tier === before && !reasonsChanged) return null;
    p.tier = tier;
    p.reasons = reasons;
    if (tier === before) {
      // only the numbers in the reasons moved (e.g. minutes watched): batch the write
      void this.writer.submit({ kind: 'reasons', channel: p.channel, viewerId: p.viewerId, tier, reasons }).catch(() => {});
      return null;
    }
    this.repo.setTier(p.channel, p.viewerId, tier, reasons);
    for (const sid of p.streams) {
      const live = this.streams.get(sid);
      if (!live) continue;
      live.tiers[before]--;
      live.tiers[tier]++;
      this.hooks.activity(sid, { type: 'tier', at: now, viewerId: p.viewerId, from: before, to: tier }); // issue 6
      this.hooks.changed(sid);
    }
    return before;
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
      this.repo.setTier(job.channel, job.viewerId, job.tier, job.reasons);
      return res;
    }
    const { streamId, channel, viewerId, now } = job;
    const pres = this.streams.get(streamId)?.present.get(viewerId);
    const d: Deltas = zeroDeltas();
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
        case 'like': d.likes += ev.data.count ?? 1; break;
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
        this.retier(p, job.now);
        live.tiers[p.tier]++;
      }
      pres.sockets++;
      if (res.firstTime) live.audience++;
      this.hooks.changed(job.streamId);
      return;
    }
    if (!res.accepted.length) return;
    const e = p.engagement;
    for (const ev of res.accepted) {
      if (ev.type === 'comment') {
        e.comments++;
        this.hooks.activity(job.streamId, { type: 'comment', at: job.now, viewerId: job.viewerId, text: ev.data.text }); // issue 6
      }
      else if (ev.type === 'like') e.likes += ev.data.count ?? 1;
      else if (ev.type === 'product_view') e.productViews++;
      else if (ev.type === 'add_to_cart') e.addToCarts++;
    }
    e.watchMs += res.watchCredited;
    this.retier(p, job.now);
    const pres = live.present.get(job.viewerId);
    if (pres && res.watchCredited > 0) {
      const before = pres.watchMs;
      pres.watchMs += res.watchCredited;
      const template = offerForWatch(p.tier, before, pres.watchMs);
      if (template) this.issue(live, job.viewerId, template, job.now);
    }
    this.hooks.changed(job.streamId);
  }

  // ---------------------------------------------------------------- offers

  private issue(live: StreamLive, viewerId: string, t: OfferTemplate, now: number): OfferRow | null {
    const { id: streamId, channel } = live.stream;
    if (this.repo.hasOffer(streamId, viewerId, t.campaign)) return null;
    const row = {
      id: randomUUID(),
      code: '',
      channel,
      streamId,
      viewerId,
      campaign: t.campaign,
      title: t.title,
      description: t.description ?? null,
      discountKind: t.discount.kind,
      discountValue: t.discount.value,
      minSpend: t.minSpend ?? null,
      currency: this.profile(channel, viewerId).currency,
      createdAt: now,
      expiresAt: now + t.ttlSeconds * 1000,
    };
    for (let attempt = 0; ; attempt++) {
      row.code = generateCode();
      try {
        this.repo.insertOffer(row);
        break;
      } catch (err: any) {
        // a code collision (2^-49 per pair) is retried; anything else is a real error
        if (attempt < 5 && err?.code === 'SQLITE_CONSTRAINT_UNIQUE' && String(err.message).includes('offers.code')) continue;
        throw err;
      }
    }
    live.offers.issued++;
    const full: OfferRow = { ...row, deliveredAt: null, seenAt: null, clickedAt: null, redeemedAt: null, redeemedOrder: null };
    this.hooks.offer(full);
    this.hooks.changed(streamId);
    return full;
  }

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
    };
  }

  /** A host's one-click push: an offer to every viewer of `tier` connected to the stream now. */
  pushToTier(streamId: string, tier: Tier, offer: { title: string; description?: string; discount: Discount; ttlSeconds: number; minSpend?: number }) {
    const live = this.live(streamId);
    if (!live) throw new Error(`unknown stream ${streamId}`);
    const now = this.clock();
    const template: OfferTemplate = { campaign: `push:${randomUUID()}`, ...offer, description: offer.description ?? '' };
    let sent = 0;
    let skipped = 0;
    for (const viewerId of live.present.keys()) {
      const p = this.profile(live.stream.channel, viewerId);
      if (p.tier !== tier) continue;
      if (this.issue(live, viewerId, template, now)) sent++;
      else skipped++;
    }
    return { sent, skipped };
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
    // a cached profile learns of the purchase here; an uncached one loads it from the database
    if (cached) cached.purchases.push({ orderId: purchase.orderId, amount: purchase.amount, at: purchase.at });
    const p = cached ?? this.profile(channel, input.viewerId);
    p.currency = purchase.currency;
    const before = this.retier(p, now);
    if (before !== null) {
      const template = offerForTierChange(before, p.tier);
      if (template) this.issue(live, input.viewerId, template, now);
    }
    this.hooks.changed(streamId);
    return { status: 201, purchase, ...(coupon ? { coupon } : {}) };
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
