/**
 * Per-viewer state: the cached profile of each viewer (what the tier model needs, loaded once
 * from the store), the tier model of each channel (its rules and its buyers' RFM distribution),
 * and the re-tiering that follows every change. A change of tier or lifecycle moves the live
 * counts of the streams the viewer is connected to, tells the hosts, and (on a move up) lets the
 * campaigns react; the new tier and reasons are written through the group-commit writer, one
 * queued write per viewer that always carries the newest values.
 */
import type { Store } from '../store/types.js';
import { CachedProfile, ReasonsWrite, type Profile, type ReasonsJob } from './profile.js';
import type { Lifecycle, Tier } from '../realtime/events.js';
import { emptyEngagement, DEFAULT_RULES, type TierRules } from '../tiering/model.js';
import { Assessment, TierModel } from '../tiering/channel.js';
import { rulesDoc, type TierRulesDoc } from '../tiering/rules.js';
import { Distributions } from './distributions.js';
import { engagementOf, RECENT_KEPT } from '../tiering/state.js';
import { viewerKey, type Clock, type Hooks } from './hooks.js';
import type { LiveStreams } from './live.js';
import { lifecycleChanged, tierChanged, type WebhookEvent } from '../webhooks/events.js';
import { explainAll, sameExplain, type Explain } from '../tiering/explain.js';
import type { ChannelModel } from '../predict/channel-model.js';

export type { Profile } from './profile.js';

const MAX_CACHED_PROFILES = 100_000;
/** viewers re-tiered per slice when rules change (between slices the event loop serves others) */
const RULES_SLICE = 500;

export { DISTRIBUTION_MAX_AGE_MS, DISTRIBUTION_REFRESH_MS } from './distributions.js';

export interface TieringDeps {
  store: Store;
  clock: Clock;
  live: LiveStreams;
  hooks: Hooks;
  /** queues a write with the group commit */
  submit: (job: ReasonsJob) => Promise<unknown>;
  /** a viewer moved from one tier to another while in `streamId` (campaigns fire on a move up) */
  entered: (streamId: string, viewerId: string, from: Tier, to: Tier, now: number) => Promise<void>;
  rules?: TierRules;
}

export class Tiering {
  private readonly profiles = new Map<string, Profile>();
  private readonly loading = new Map<string, Promise<Profile>>();
  private readonly models = new Map<string, TierModel>();
  private readonly modelLoading = new Map<string, Promise<TierModel>>();
  /** each viewer's queued tier write, updated in place until it commits (one write per viewer per commit) */
  private readonly queued = new Map<string, { job: ReasonsWrite; done: Promise<unknown> }>();
  /** each viewer's latest tier write until it committed */
  private readonly inCommit = new Map<string, Promise<unknown>>();
  /** the background refresh of the loaded channels' buyer distributions (services/distributions.ts) */
  private readonly distributions: Distributions;

  /** each channel's predictive model, if any (services/models.ts `peek`): buyers unlikely to be active are at_risk */
  valueModel: ((channel: string) => ChannelModel | null) | null = null;

  constructor(private readonly deps: TieringDeps) {
    this.distributions = new Distributions({
      store: deps.store,
      clock: deps.clock,
      models: this.models,
      isCached: (channel, viewerId) => this.profiles.has(viewerKey(channel, viewerId)),
      cachedIn: (channel) => [...this.profiles.values()].filter((p) => p.channel === channel),
    });
  }

  /**
   * The channel's predictive model changed (a new fit): its connected viewers are re-tiered now
   * (reported, as this process stored the fit); others as they next do something or are swept.
   */
  async modelFitted(channel: string): Promise<void> {
    if (!this.models.has(channel)) return;
    const now = this.deps.clock();
    for (const p of [...this.profiles.values()]) {
      if (p.channel === channel && p.streams.size > 0) await this.retier(p, now, p.streams, true);
    }
  }

  /** the viewer's profile if cached */
  cached(channel: string, viewerId: string): Profile | undefined {
    return this.profiles.get(viewerKey(channel, viewerId));
  }

  /** the viewer's profile, loaded once (with the channel's model) from the store */
  profile(channel: string, viewerId: string): Promise<Profile> | Profile {
    const k = viewerKey(channel, viewerId);
    const p = this.profiles.get(k);
    if (p) return p;
    let loading = this.loading.get(k);
    if (!loading) {
      loading = this.fetch(channel, viewerId).finally(() => this.loading.delete(k));
      this.loading.set(k, loading);
    }
    return loading;
  }

  private async fetch(channel: string, viewerId: string): Promise<Profile> {
    const { store, clock } = this.deps;
    await this.model(channel);
    const [row, purchases] = await Promise.all([store.getViewer(channel, viewerId), store.viewerPurchases(channel, viewerId)]);
    const [checkouts, offers] = row
      ? await Promise.all([store.recentCheckouts(channel, viewerId, RECENT_KEPT), store.recentOffers(channel, viewerId, RECENT_KEPT)])
      : [[], []];
    const k = viewerKey(channel, viewerId);
    const raced = this.profiles.get(k);
    if (raced) return raced;
    const now = clock();
    const p: Profile = new CachedProfile({
      channel,
      viewerId,
      purchases: purchases.map(({ orderId, amount, at }) => ({ orderId, amount, at })),
      ...(row ? engagementOf(row) : emptyEngagement()),
      engWeighted: row?.engWeighted ?? 0,
      firstSeenAt: row?.firstSeenAt ?? now,
      lastSeenAt: row?.lastSeenAt ?? now,
      checkouts,
      offers,
      tier: row?.tier ?? 'potential',
      lifecycle: (row?.lifecycle as Lifecycle | undefined) ?? 'new',
      assessed: { explain: row?.explain ?? [] },
      currency: purchases[purchases.length - 1]?.currency ?? 'CNY',
      streams: new Set(),
      stored: row !== null,
    });
    this.profiles.set(k, p);
    this.evict();
    return p;
  }

  private evict() {
    if (this.profiles.size <= MAX_CACHED_PROFILES) return;
    for (const [k, p] of this.profiles) {
      if (this.profiles.size <= MAX_CACHED_PROFILES * 0.9) break;
      if (p.streams.size === 0) this.profiles.delete(k);
    }
  }

  /** drops a cached profile (it reloads from the store on next use) */
  drop(channel: string, viewerId: string) {
    this.profiles.delete(viewerKey(channel, viewerId));
  }

  /** The channel's tier model, loaded once: its rules and every buyer's RFM values (one grouped query). */
  model(channel: string): Promise<TierModel> | TierModel {
    const m = this.models.get(channel);
    if (m) return m;
    let loading = this.modelLoading.get(channel);
    if (!loading) {
      loading = this.buildModel(channel).finally(() => this.modelLoading.delete(channel));
      this.modelLoading.set(channel, loading);
    }
    return loading;
  }

  private async buildModel(channel: string, doc?: TierRulesDoc): Promise<TierModel> {
    const { store, clock } = this.deps;
    const stored = doc ?? ((await store.getRules(channel)) as TierRulesDoc | null);
    const m = new TierModel(stored ?? rulesDoc(this.deps.rules ?? DEFAULT_RULES));
    const now = clock();
    const since = now - m.rules.lookbackDays * 86_400_000;
    for (const b of await store.buyers(channel, since, now)) m.register(b.viewerId, { orders: b.orders, spend: b.spend, lastAt: b.lastAt });
    // profiles already cached count with their own (newer) values
    for (const p of this.profiles.values()) if (p.channel === channel) m.assess(p.viewerId, p, now);
    this.models.set(channel, m);
    this.distributions.read(channel, now);
    return m;
  }

  /** Refreshes up to `channels` due channels' distributions from the store (services/distributions.ts); returns them. */
  refreshDistributions(channels = 1): Promise<string[]> {
    return this.distributions.refresh(channels);
  }

  /** Starts the background refresh of the distributions (unref'd: it never keeps the process up); errors go to `onError`. */
  startRefresh(onError: (err: unknown) => void, everyMs?: number): void {
    this.distributions.start(onError, everyMs, () => this.refreshDistributions());
  }

  stopRefresh(): void {
    this.distributions.stop();
  }

  /**
   * Recomputes one viewer's tier, scores and lifecycle (incremental: only this viewer's data, and
   * their entry in the channel's RFM distribution). On a change of tier or lifecycle the live
   * counts move and hosts are told; on a move of tier, campaigns of `streamIds` (default: the
   * streams the viewer is connected to) react. Returns the previous tier when it changed.
   */
  async retier(p: Profile, now: number, streamIds: Iterable<string> = p.streams, report = true): Promise<Tier | null> {
    const from = this.assess(p, await this.model(p.channel), now, false, report);
    if (from !== null) {
      for (const sid of [...streamIds]) await this.deps.entered(sid, p.viewerId, from, p.tier, now);
    }
    return from;
  }

  /**
   * Another process changed this viewer's stored facts (cluster mode): a cached profile is read
   * again; one connected here keeps its presence, and the re-tier moves the live counts (without
   * firing campaigns: the process that saw the change fired them).
   */
  async refresh(channel: string, viewerId: string): Promise<void> {
    const cached = this.cached(channel, viewerId);
    if (!cached) return;
    this.drop(channel, viewerId);
    const fresh = await this.profile(channel, viewerId);
    if (cached.streams.size) {
      for (const sid of cached.streams) fresh.streams.add(sid);
      fresh.tier = cached.tier; // what the live counts hold; the re-tier moves it
      fresh.lifecycle = cached.lifecycle;
    }
    this.assess(fresh, await this.model(channel), this.deps.clock(), true);
  }

  /** `quiet`: the hosts are not told (another process changed the facts); `report`: webhooks hear of a change */
  private assess(p: Profile, model: TierModel, now: number, quiet = false, report = !quiet, eventId?: (type: string, from: string, to: string) => string): Tier | null {
    const vm = this.valueModel?.(p.channel) ?? null;
    if (model.valueModel !== vm) model.setValueModel(vm);
    const ev = model.assess(p.viewerId, p, now);
    const { tier, lifecycle } = ev;
    const before = { tier: p.tier, lifecycle: p.lifecycle };
    const prev = p.assessed;
    // the numbers the reasons are made from, compared (no reasons made); reasons read from the row: compared as reasons
    const reasonsChanged = prev instanceof Assessment ? !ev.sameAs(prev) : !sameExplain(ev.explain, prev.explain);
    p.assessed = ev; // the scores may move without the reasons
    if (tier === before.tier && lifecycle === before.lifecycle && !reasonsChanged) return null;
    p.tier = tier;
    p.lifecycle = lifecycle;
    // the merchant's systems hear of a move of tier or lifecycle in the transaction that stores it
    // (one process reports each change: the one that saw its cause, or that stored new rules)
    const events: WebhookEvent[] = [];
    if (report && p.stored) {
      if (tier !== before.tier) events.push(tierChanged(p.channel, p.viewerId, before.tier, tier, ev.explain, now));
      if (lifecycle !== before.lifecycle) events.push(lifecycleChanged(p.channel, p.viewerId, before.lifecycle, lifecycle, tier, ev.explain, now));
      if (eventId) for (const e of events) e.id = eventId(e.type, String(e.data.from), String(e.data.to));
    }
    this.write(p, events);
    if (tier === before.tier && lifecycle === before.lifecycle) return null; // only the numbers in the reasons moved
    if (!quiet) this.deps.hooks.viewer(p.channel, p.viewerId);
    for (const sid of p.streams) {
      const live = this.deps.live.get(sid);
      if (!live) continue;
      this.deps.live.move(live, before, p);
      if (tier !== before.tier) this.deps.hooks.activity(sid, { type: 'tier', at: now, viewerId: p.viewerId, from: before.tier, to: tier });
      this.deps.hooks.changed(sid);
    }
    return tier === before.tier ? null : before.tier;
  }

  /** queues the profile's tier, reasons and lifecycle for the next commit (one queued write per viewer, newest values) */
  private write(p: Profile, events: WebhookEvent[] = []) {
    const k = viewerKey(p.channel, p.viewerId);
    const q = this.queued.get(k);
    if (q) {
      q.job.tier = p.tier;
      q.job.of = p.assessed;
      q.job.lifecycle = p.lifecycle;
      if (events.length) (q.job.webhooks ??= []).push(...events);
      return;
    }
    const job = new ReasonsWrite(p.channel, p.viewerId, p.tier, p.lifecycle, p.assessed);
    if (events.length) job.webhooks = events;
    const entry = { job, done: Promise.resolve() as Promise<unknown> };
    this.queued.set(k, entry);
    const done = this.deps.submit(job);
    entry.done = done;
    this.inCommit.set(k, done);
    done
      .finally(() => {
        if (this.queued.get(k) === entry) this.queued.delete(k);
        if (this.inCommit.get(k) === done) this.inCommit.delete(k);
      })
      .catch(() => {}); // a failed batch: the next change queues anew
  }

  /** A queued write was taken into a commit: later changes queue a new one (this one may already be written). */
  committing(job: ReasonsJob) {
    const k = viewerKey(job.channel, job.viewerId);
    if (this.queued.get(k)?.job === job) this.queued.delete(k);
  }

  /** the viewer's stored tier is up to date once this resolves */
  async written(channel: string, viewerId: string): Promise<void> {
    const k = viewerKey(channel, viewerId);
    await this.queued.get(k)?.done.catch(() => {});
    await this.inCommit.get(k)?.catch(() => {});
  }

  /** A re-tier as of now (loads the profile if needed). */
  async tierOf(channel: string, viewerId: string): Promise<{ tier: Tier; explain: Explain[]; reasons: string[] }> {
    const p = await this.profile(channel, viewerId);
    await this.retier(p, this.deps.clock());
    return { tier: p.tier, explain: p.explain, reasons: explainAll(p.explain) };
  }

  /** The rules in force for a channel. */
  async rules(channel: string): Promise<TierRulesDoc> {
    return (await this.model(channel)).rules;
  }

  /**
   * New rules for a channel: stored, then every connected viewer of the channel is re-tiered at once
   * (hosts see it; one who changes tier fires tier_entered campaigns), and the channel's other
   * viewers in the background, in slices (offline: no offer). Resolves when all are re-tiered.
   */
  async setRules(channel: string, doc: TierRulesDoc): Promise<{ background: Promise<void> }> {
    await this.deps.store.setRules(channel, doc, this.deps.clock());
    return this.applyRules(channel, doc, true);
  }

  /**
   * Rules stored by another process (cluster mode): this process's model takes them and its
   * connected viewers are re-tiered (the process that stored them re-tiers the offline ones).
   */
  async reloadRules(channel: string): Promise<void> {
    if (!this.models.has(channel)) return; // loaded with the new rules on first use
    const doc = (await this.deps.store.getRules(channel)) as TierRulesDoc | null;
    if (doc) await this.applyRules(channel, doc, false);
  }

  private async applyRules(channel: string, doc: TierRulesDoc, offline: boolean): Promise<{ background: Promise<void> }> {
    const { store, clock } = this.deps;
    const now = clock();
    const m = await this.model(channel);
    if (m.rules.lookbackDays !== doc.lookbackDays) {
      // the distribution is over another window now: rebuild it
      await this.buildModel(channel, doc);
    } else {
      m.setRules(doc);
    }
    for (const p of [...this.profiles.values()]) {
      // the process that stored the rules reports the changes (offline), the others only follow
      if (p.channel === channel && p.streams.size > 0) await this.retier(p, now, p.streams, offline);
    }
    if (!offline) return { background: Promise.resolve() };
    const ids = await store.channelViewerIds(channel);
    const background = (async () => {
      for (let from = 0; from < ids.length; from += RULES_SLICE) {
        const t = clock();
        for (const id of ids.slice(from, from + RULES_SLICE)) {
          const cached = this.cached(channel, id);
          const p = cached ?? (await this.profile(channel, id));
          // other processes apply the rules to their own viewers; this one reports every change
          this.assess(p, await this.model(channel), t, true, true);
          if (!cached && p.streams.size === 0) this.drop(channel, id);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    return { background };
  }

  /**
   * Time alone moved a stored viewer's lifecycle (services/lifecycle-sweep.ts): the viewer is
   * re-tiered as of `now` without telling hosts, the change is reported to webhooks under ids
   * derived from the viewer's stored facts (two processes sweeping the same viewer write one
   * event), and a profile loaded only for this leaves the cache again.
   */
  async reassess(channel: string, viewerId: string, now: number, eventId: (type: string, from: string, to: string) => string): Promise<void> {
    const cached = this.cached(channel, viewerId);
    const p = cached ?? (await this.profile(channel, viewerId));
    this.assess(p, await this.model(channel), now, true, true, eventId);
    if (!cached && p.streams.size === 0) this.drop(channel, viewerId);
  }

  /** The viewer leaves the channel's distribution and the cache (erasure). */
  async forget(channel: string, viewerId: string) {
    const m = await this.model(channel);
    this.distributions.forgotten(channel, viewerId);
    m.forget(viewerId);
    this.drop(channel, viewerId);
  }
}
