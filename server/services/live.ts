/**
 * The live state of each stream this process serves: who is connected (and since when their
 * watch time was last credited), connected viewers by tier and lifecycle, and the stream's
 * running totals. Loaded from the store on a stream's first use, then kept up to date in memory
 * by the other services; `summary()` is what a host's dashboard shows.
 */
import type { Store, StreamRow } from '../store/types.js';
import type { Lifecycle, LifecycleCounts, StreamSummary, Tier, TierCounts } from '../realtime/events.js';
import type { Clock } from './hooks.js';

export interface Presence {
  sockets: number;
  /** server time of the last credited heartbeat (or of joining): the base of the next credit */
  lastCreditAt: number;
}

export interface StreamLive {
  stream: StreamRow;
  present: Map<string, Presence>;
  tiers: TierCounts;
  /** connected viewers by lifecycle */
  lifecycle: LifecycleCounts;
  audience: number;
  orders: number;
  gmv: number;
  offers: { issued: number; delivered: number; redeemed: number };
}

export class LiveStreams {
  private readonly streams = new Map<string, StreamLive>();
  private readonly loading = new Map<string, Promise<StreamLive | null>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** the stream's live state if this process has loaded it */
  get(streamId: string): StreamLive | undefined {
    return this.streams.get(streamId);
  }

  /** the stream's live state, loaded from the store on first use; null for an unknown stream */
  load(streamId: string): Promise<StreamLive | null> | StreamLive {
    const live = this.streams.get(streamId);
    if (live) return live;
    let p = this.loading.get(streamId);
    if (!p) {
      p = this.fetch(streamId).finally(() => this.loading.delete(streamId));
      this.loading.set(streamId, p);
    }
    return p;
  }

  private async fetch(streamId: string): Promise<StreamLive | null> {
    const stream = await this.store.getStream(streamId);
    if (!stream) return null;
    const totals = await this.store.streamTotals(streamId);
    const existing = this.streams.get(streamId);
    if (existing) return existing;
    const live: StreamLive = {
      stream,
      present: new Map(),
      tiers: { high: 0, mid: 0, potential: 0 },
      lifecycle: { new: 0, active: 0, at_risk: 0, lapsed: 0 },
      audience: totals.audience,
      orders: totals.orders,
      gmv: totals.gmv,
      offers: totals.offers,
    };
    this.streams.set(streamId, live);
    return live;
  }

  /** like `load`, but an unknown stream is an error (callers checked the stream exists) */
  async require(streamId: string): Promise<StreamLive> {
    const live = await this.load(streamId);
    if (!live) throw new Error(`unknown stream ${streamId}`);
    return live;
  }

  values(): IterableIterator<StreamLive> {
    return this.streams.values();
  }

  /** viewers connected to the stream now */
  connected(streamId: string): Iterable<string> {
    return this.streams.get(streamId)?.present.keys() ?? [];
  }

  /** a connected viewer moved between tiers or lifecycle stages */
  move(live: StreamLive, from: { tier: Tier; lifecycle: Lifecycle }, to: { tier: Tier; lifecycle: Lifecycle }) {
    live.tiers[from.tier]--;
    live.tiers[to.tier]++;
    live.lifecycle[from.lifecycle]--;
    live.lifecycle[to.lifecycle]++;
  }

  summary(live: StreamLive): StreamSummary {
    return {
      streamId: live.stream.id,
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

  /** re-reads the audience (unique viewers) of the channel's loaded streams (after an alias or an erasure) */
  async refreshAudience(channel: string) {
    for (const live of this.streams.values()) {
      if (live.stream.channel === channel) live.audience = await this.store.audience(live.stream.id);
    }
  }
}
