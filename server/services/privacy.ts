/**
 * A viewer's data rights and identity: the detail and export of what is stored about them, the
 * erasure of it, and `identify()`'s alias, which links an anonymous browser's history to the
 * verified viewer once per anonymous id.
 */
import { randomUUID } from 'node:crypto';
import type { AliasResult, Store } from '../store/types.js';
import type { Clock, Hooks } from './hooks.js';
import type { LiveStreams } from './live.js';
import type { Tiering } from './tiering.js';
import type { Ingest } from './ingest.js';
import { explainAll } from '../tiering/explain.js';
import { engagementOf } from '../tiering/state.js';

export interface PrivacyDeps {
  store: Store;
  clock: Clock;
  live: LiveStreams;
  tiering: Tiering;
  ingest: Ingest;
  hooks: Hooks;
  /** the purchases queued for their group commit (services/commerce.ts): part of a viewer's data too */
  purchases?: { flushAll(): Promise<void> };
}

export class Privacy {
  constructor(private readonly deps: PrivacyDeps) {}

  /** Whether the viewer is known in the channel (a viewer row exists: a visit or a purchase; not merely a cached lookup). */
  async knows(channel: string, viewerId: string): Promise<boolean> {
    return (await this.deps.store.getViewer(channel, viewerId)) !== null;
  }

  /** A viewer's tier, lifecycle, scores, reasons (as codes) and lifetime stats as of now; null when unknown. */
  async viewerDetail(channel: string, viewerId: string) {
    if (!(await this.knows(channel, viewerId))) return null;
    const { tiering, clock } = this.deps;
    const p = await tiering.profile(channel, viewerId);
    await tiering.retier(p, clock());
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
      explain: p.explain,
      scores: { ...p.scores },
      /** the verified purchases (net of refunds) and currency the predicted value is made from */
      purchases: p.purchases.map(({ amount, at }) => ({ amount, at })),
      currency: p.currency,
      stats: { ...engagementOf(p), purchases, spend, firstSeenAt: p.firstSeenAt, lastSeenAt: p.lastSeenAt, lastPurchaseAt },
    };
  }

  /** Everything stored about a viewer in a channel (GDPR export); null when unknown. */
  async exportViewer(channel: string, viewerId: string) {
    await this.deps.purchases?.flushAll(); // what is queued for them is part of their data
    await this.deps.ingest.writer.flushAll();
    const data = await this.deps.store.exportViewer(channel, viewerId);
    if (!data) return null;
    const detail = (await this.viewerDetail(channel, viewerId))!;
    return { channel, viewerId, exportedAt: this.deps.clock(), tier: detail.tier, lifecycle: detail.lifecycle, reasons: explainAll(detail.explain), explain: detail.explain, scores: detail.scores, ...data };
  }

  /**
   * Erases a viewer's personal data and events in a channel: they leave the live counts, the RFM
   * distribution and every list; later requests for them are 404. The caller disconnects their
   * sockets first. Returns false when the viewer was unknown.
   */
  async erase(channel: string, viewerId: string): Promise<boolean> {
    const { store, live: lives, tiering, ingest, hooks } = this.deps;
    // commit what is queued first, so no job for this viewer lands (or reloads their profile) after the erasure
    await this.deps.purchases?.flushAll();
    await ingest.writer.flushAll();
    const p = tiering.cached(channel, viewerId);
    if (p) {
      for (const sid of p.streams) {
        const live = lives.get(sid);
        if (!live || !live.present.delete(viewerId)) continue;
        live.tiers[p.tier]--;
        live.lifecycle[p.lifecycle]--;
        hooks.changed(sid);
      }
    }
    await tiering.forget(channel, viewerId);
    const known = await store.eraseViewer(channel, viewerId, `erased:${randomUUID()}`);
    await lives.refreshAudience(channel);
    return known || !!p;
  }

  /**
   * `identify()`: links an anonymous viewer's history (events, counters, unredeemed offers) to the
   * verified viewer, once per anonymous id. Both cached profiles are dropped so they reload from
   * the store; a profile still connected somewhere is reloaded at once and keeps its presence, so
   * the live tier counts stay right.
   */
  async alias(channel: string, anonId: string, viewerId: string): Promise<AliasResult> {
    const { store, clock, live: lives, tiering, ingest, hooks } = this.deps;
    const now = clock();
    // commit what is queued first, so the anonymous viewer's last events move with the rest
    await ingest.writer.flushAll();
    const r = await store.alias(channel, anonId, viewerId, now);
    if (!r.merged) return r;
    hooks.viewer(channel, anonId);
    hooks.viewer(channel, viewerId);
    for (const id of [anonId, viewerId]) {
      const cached = tiering.cached(channel, id);
      if (!cached) continue;
      tiering.drop(channel, id);
      if (cached.streams.size === 0) continue;
      const fresh = await tiering.profile(channel, id);
      fresh.streams = cached.streams;
      fresh.tier = cached.tier; // what the live counts hold; the re-tier moves it if the merge changed it
      fresh.lifecycle = cached.lifecycle;
      await tiering.retier(fresh, now, []);
    }
    await lives.refreshAudience(channel);
    for (const live of lives.values()) if (live.stream.channel === channel) hooks.changed(live.stream.id);
    return r;
  }
}
