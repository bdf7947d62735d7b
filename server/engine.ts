/**
 * The engine joins the parts: it builds the services over one store and one clock, and gives the
 * routes and the realtime layer one object to call. It does no network I/O: the realtime layer
 * subscribes to its hooks (`offer`, `changed`, `activity`) and does the sending.
 *
 *   live.ts      the live state of each stream (presence, counts, totals)
 *   tiering.ts   per-viewer profiles, each channel's tier model, re-tiering
 *   ingest.ts    join / leave / track through the group-commit writer
 *   commerce.ts  verified purchases, refunds, coupon redemptions
 *   privacy.ts   viewer detail, export, erasure, alias
 *   ../offers/service.ts  campaigns, triggers, caps and holdouts
 */
import type { OfferRow, Store, StreamRow } from './store/types.js';
import type { ValidEvent } from './ingest/schema.js';
import { DEFAULT_RULES, type TierRules } from './tiering/model.js';
import type { TierRulesDoc } from './tiering/rules.js';
import { addOffer } from './tiering/state.js';
import { OfferService } from './offers/service.js';
import type { Discount, OfferPayload, StreamSummary, Tier, TrackAck } from './realtime/events.js';
import { Hooks, type Clock, type EngineHooks } from './services/hooks.js';
import { LiveStreams, type StreamLive } from './services/live.js';
import { Tiering } from './services/tiering.js';
import { Ingest } from './services/ingest.js';
import { Commerce, type PurchaseInput, type PurchaseResult, type RedeemReply, type RefundReply } from './services/commerce.js';
import { Privacy } from './services/privacy.js';
import type { Cluster } from './services/cluster.js';
import { Jobs } from './services/jobs.js';

export type { Clock, EngineHooks, ActivityEvent } from './services/hooks.js';
export type { PurchaseInput, PurchaseResult } from './services/commerce.js';
export type RedeemResult = RedeemReply;

export class Engine {
  readonly hooks = new Hooks();
  readonly streams: LiveStreams;
  readonly tiering: Tiering;
  readonly ingest: Ingest;
  /** campaigns, triggers, caps, holdouts */
  readonly campaigns: OfferService;
  readonly commerce: Commerce;
  readonly privacy: Privacy;
  /** due work kept in the database: waiting carts, crossed milestones, purchases' offers */
  readonly jobs: Jobs;
  /** cluster mode: the other processes serving the same audience */
  private cluster: Cluster | null = null;
  private readonly onError: (err: unknown) => void;

  constructor(
    readonly store: Store,
    private readonly clock: Clock,
    rules: TierRules = DEFAULT_RULES,
    onError: (err: unknown) => void = () => {},
  ) {
    this.onError = onError;
    const hooks = this.hooks;
    this.streams = new LiveStreams(store, clock);
    this.tiering = new Tiering({
      store,
      clock,
      live: this.streams,
      hooks,
      rules,
      submit: (job) => this.ingest.writer.submit(job),
      entered: async (streamId, viewerId, from, to, now) => {
        const live = await this.streams.load(streamId);
        if (live) await this.campaigns.tierChanged(live.stream, viewerId, from, to, now);
      },
    });
    this.campaigns = new OfferService({
      store,
      clock,
      viewer: async (channel, viewerId) => {
        const p = await this.tiering.profile(channel, viewerId);
        return { tier: p.tier, lifecycle: p.lifecycle, currency: p.currency };
      },
      tierNow: async (channel, viewerId, now) => {
        const p = await this.tiering.profile(channel, viewerId);
        await this.tiering.retier(p, now, []);
        return p.tier;
      },
      connected: (streamId) => this.streams.connected(streamId),
      issued: (offer, here) => {
        const holder = this.tiering.cached(offer.channel, offer.viewerId);
        if (holder) addOffer(holder, offer); // for "several offers ignored"
        const live = this.streams.get(offer.streamId);
        if (live) live.offers.issued++;
        hooks.offer(offer, here);
        hooks.changed(offer.streamId);
      },
      stream: async (id) => (await this.streams.load(id))?.stream ?? null,
      fanout: (streamId, campaignId) => this.cluster?.send(streamId, campaignId) ?? Promise.resolve([]),
    });
    const campaigns = () => this.campaigns;
    this.jobs = new Jobs({ store, clock, run: (job, now) => this.campaigns.runJob(job, now), onError });
    this.ingest = new Ingest({ store, clock, live: this.streams, tiering: this.tiering, hooks, campaigns, jobs: this.jobs, onError });
    this.commerce = new Commerce({ store, clock, live: this.streams, tiering: this.tiering, hooks, campaigns, jobs: this.jobs });
    this.privacy = new Privacy({ store, clock, live: this.streams, tiering: this.tiering, ingest: this.ingest, hooks, purchases: this.commerce.writer });
  }

  /**
   * Work done once at start: the channels' buyer distributions start refreshing in the background
   * (services/tiering.ts). Waiting triggers need nothing: they are jobs in the database, and the
   * first tick claims what is due.
   */
  async start(): Promise<void> {
    this.tiering.startRefresh(this.onError);
  }

  setHooks(hooks: Partial<EngineHooks>) {
    this.hooks.set(hooks);
  }

  /**
   * Cluster mode: changes here are told to the other processes, and theirs are applied here
   * (`changed` reaches this process's hosts; see services/cluster.ts for what travels).
   */
  attachCluster(cluster: Cluster, onRemote: { changed: (streamId: string, activity: import('./services/hooks.js').ActivityEvent[]) => void }) {
    this.cluster = cluster;
    this.hooks.relay = cluster;
    cluster.start({
      changed: onRemote.changed,
      viewers: (viewers) => {
        for (const [channel, viewerId] of viewers) void this.tiering.refresh(channel, viewerId).catch(() => {});
      },
      forget: (channel, viewerId) => void this.tiering.forget(channel, viewerId).catch(() => {}),
      rules: (channel) => void this.tiering.reloadRules(channel).catch(() => {}),
      send: async (streamId, campaignId) => {
        const live = await this.streams.load(streamId);
        if (!live) return { sent: 0, held: 0, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } };
        return this.campaigns.sendHere(live.stream, campaignId);
      },
    });
  }

  get writer() {
    return this.ingest.writer;
  }

  // ---------------------------------------------------------------- streams

  /** the stream's live state, loaded on first use; null for an unknown stream */
  async live(streamId: string): Promise<StreamLive | null> {
    return this.streams.load(streamId);
  }

  /** what hosts see: in cluster mode, every process's viewers */
  async summary(streamId: string): Promise<StreamSummary | null> {
    const live = await this.streams.load(streamId);
    if (!live) return null;
    return this.cluster ? this.cluster.summary(live) : this.streams.summary(live);
  }

  /** Tier of a viewer as of now (loads the profile if needed). */
  tierOf(channel: string, viewerId: string) {
    return this.tiering.tierOf(channel, viewerId);
  }

  // ---------------------------------------------------------------- ingest

  join(streamId: string, viewerId: string, verified: boolean): Promise<void> {
    return this.ingest.join(streamId, viewerId, verified);
  }

  leave(streamId: string, viewerId: string) {
    this.ingest.leave(streamId, viewerId);
  }

  track(streamId: string, viewerId: string, events: ValidEvent[]): Promise<Pick<TrackAck, 'accepted' | 'duplicates'>> {
    return this.ingest.track(streamId, viewerId, events);
  }

  // ---------------------------------------------------------------- offers

  /** Offers issued to this viewer (any stream of the channel) that no client has acknowledged yet and that are still valid. */
  pendingOffers(channel: string, viewerId: string): Promise<OfferRow[]> {
    return this.store.pendingOffers(channel, viewerId, this.clock());
  }

  /** A client acknowledged an offer. */
  delivered(offer: OfferRow, onError: (err: unknown) => void = () => {}) {
    if (offer.deliveredAt) return;
    offer.deliveredAt = this.clock();
    const live = this.streams.get(offer.streamId);
    if (live) live.offers.delivered++;
    this.ingest.delivered(offer.id, offer.deliveredAt).catch(onError);
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
      ...(o.maxDiscount != null ? { maxDiscount: o.maxDiscount } : {}),
      ...(o.skus ? { skus: o.skus } : {}),
      ...(o.i18n ? { i18n: o.i18n } : {}),
    };
  }

  /** A host's one-click push: an offer to every viewer of `tier` connected to the stream now. */
  async pushToTier(streamId: string, tier: Tier, offer: { title: string; description?: string; discount: Discount; ttlSeconds: number; minSpend?: number }, holdoutPercent = 0) {
    const live = await this.streams.require(streamId);
    // an ad-hoc manual campaign (caps and limits apply): `held` were held back for measurement,
    // `skipped` counts the tier's other viewers not sent to (caps, budget, quota, an offer already held)
    const r = await this.campaigns.push(live.stream, tier, offer, holdoutPercent);
    return { sent: r.sent, held: r.held, skipped: r.skippedTotal };
  }

  /** the server's clock (Date.now, or a test's) */
  now(): number {
    return this.clock();
  }

  /**
   * Time passed (a timer in app.ts; tests call it with their clock): due jobs run, from this
   * process or any other (cart_abandoned campaigns; work a dead process left claimed).
   */
  async tick(now = this.clock()): Promise<void> {
    await this.jobs.tick(now);
  }

  // ---------------------------------------------------------------- money

  recordPurchase(streamId: string, input: PurchaseInput): Promise<PurchaseResult> {
    return this.commerce.recordPurchase(streamId, input);
  }

  redeem(channel: string, code: string, orderId: string, viewerId: string): Promise<RedeemReply> {
    return this.commerce.redeem(channel, code, orderId, viewerId);
  }

  refund(channel: string, orderId: string, refundedTotal: number | undefined, currency?: string): Promise<RefundReply> {
    return this.commerce.refund(channel, orderId, refundedTotal, currency);
  }

  // ---------------------------------------------------------------- tiering

  /** The rules in force for a channel. */
  tierRules(channel: string): Promise<TierRulesDoc> {
    return this.tiering.rules(channel);
  }

  /** New rules: connected viewers re-tiered before this resolves; `background` resolves when every viewer is. */
  async setTierRules(channel: string, doc: TierRulesDoc): Promise<{ background: Promise<void> }> {
    const r = await this.tiering.setRules(channel, doc);
    this.cluster?.rules(channel);
    return r;
  }

  // ---------------------------------------------------------------- viewers

  knows(channel: string, viewerId: string) {
    return this.privacy.knows(channel, viewerId);
  }

  viewerDetail(channel: string, viewerId: string) {
    return this.privacy.viewerDetail(channel, viewerId);
  }

  exportViewer(channel: string, viewerId: string) {
    return this.privacy.exportViewer(channel, viewerId);
  }

  async erase(channel: string, viewerId: string) {
    const known = await this.privacy.erase(channel, viewerId);
    this.cluster?.forget(channel, viewerId);
    return known;
  }

  alias(channel: string, anonId: string, viewerId: string) {
    return this.privacy.alias(channel, anonId, viewerId);
  }

  /** Commits what is queued; call before closing the store. */
  async close(): Promise<void> {
    this.tiering.stopRefresh();
    await this.commerce.close(); // purchases first: their profiles' writes go through the ingest writer
    await this.jobs.close(); // the finishes of the jobs those purchases ran
    await this.ingest.writer.close();
    await this.cluster?.stop();
  }
}

export type { StreamRow, StreamLive };
