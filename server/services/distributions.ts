/**
 * The background refresh of the loaded channels' buyer distributions (each channel's TierModel).
 * A buyer's entry is otherwise only updated when that viewer is re-tiered, so a buyer who stopped
 * coming keeps counting with purchases that have since left the lookback window. The registered
 * values are aggregates that cannot be re-windowed, so a refresh re-reads the channel's buyers
 * from the store (one grouped query) and replaces the distribution with that result; cached
 * profiles count with their own live values (services/tiering.ts owns the models and the cache).
 */
import type { Store } from '../store/types.js';
import type { TierModel } from '../tiering/channel.js';
import { rfmValues } from '../tiering/rfm.js';
import type { ViewerState } from '../tiering/state.js';
import type { Clock } from './hooks.js';

const DAY_MS = 86_400_000;

/** how often the engine's timer refreshes a channel's buyer distribution */
export const DISTRIBUTION_REFRESH_MS = 60_000;
/**
 * A loaded channel's distribution is re-read from the store when the UTC day changed since it was
 * last read (recency is counted in days) or when it is this old (purchases leave the lookback
 * window continuously, so orders and spend of buyers who stopped coming drift within a day too).
 */
export const DISTRIBUTION_MAX_AGE_MS = 60 * 60_000;

export interface DistributionsDeps {
  store: Store;
  clock: Clock;
  /** the loaded channels' models (shared with services/tiering.ts, which builds them) */
  models: ReadonlyMap<string, TierModel>;
  /** whether a viewer's profile is cached (it then counts with its own values) */
  isCached: (channel: string, viewerId: string) => boolean;
  /** the channel's cached profiles */
  cachedIn: (channel: string) => Iterable<ViewerState & { viewerId: string }>;
}

export class Distributions {
  /** when each loaded channel's distribution was last read from the store (the clock's time of the read) */
  private readonly readAt = new Map<string, number>();
  /** the channel refreshed last: the next refresh starts after it (round-robin over the loaded channels) */
  private cursor: string | null = null;
  /** the refresh in flight, and the viewers erased while its query ran (not to be registered again) */
  private run: { channel: string; forgotten: Set<string> } | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: DistributionsDeps) {}

  /** the channel's distribution was just read from the store (a model built) */
  read(channel: string, now: number): void {
    this.readAt.set(channel, now);
  }

  /** a viewer was erased: a refresh in flight for the channel must not register them again */
  forgotten(channel: string, viewerId: string): void {
    if (this.run?.channel === channel) this.run.forgotten.add(viewerId);
  }

  /**
   * Work per call: at most `channels` channels, each one `store.buyers` query plus O(its buyers +
   * cached profiles); a channel is due only when the UTC day changed since its last read or the
   * read is DISTRIBUTION_MAX_AGE_MS old, and the due ones are taken round-robin. Returns the
   * channels refreshed. A call while another refresh runs does nothing.
   */
  async refresh(channels = 1): Promise<string[]> {
    if (this.run) return [];
    const due = this.dueChannels(this.deps.clock(), channels);
    for (const channel of due) await this.refreshChannel(channel);
    return due;
  }

  private dueChannels(now: number, max: number): string[] {
    const ids = [...this.deps.models.keys()];
    if (ids.length === 0 || max <= 0) return [];
    // after the cursor (a cursor no longer loaded gives -1 + 1: from the start)
    const start = this.cursor === null ? 0 : ids.indexOf(this.cursor) + 1;
    const out: string[] = [];
    for (let i = 0; i < ids.length && out.length < max; i++) {
      const channel = ids[(start + i) % ids.length]!;
      const at = this.readAt.get(channel) ?? -Infinity;
      if (Math.floor(at / DAY_MS) !== Math.floor(now / DAY_MS) || now - at >= DISTRIBUTION_MAX_AGE_MS) out.push(channel);
    }
    if (out.length) this.cursor = out[out.length - 1]!;
    return out;
  }

  private async refreshChannel(channel: string): Promise<void> {
    const { models, isCached, cachedIn } = this.deps;
    const m = models.get(channel);
    if (!m) return;
    const run = { channel, forgotten: new Set<string>() };
    this.run = run;
    try {
      const now = this.deps.clock();
      const lookbackDays = m.rules.lookbackDays;
      const rows = await this.deps.store.buyers(channel, now - lookbackDays * DAY_MS, now);
      // rebuilt (or its window changed) while the query ran: that rebuild read the store itself
      if (models.get(channel) !== m || m.rules.lookbackDays !== lookbackDays) return;
      const inResult = new Set<string>();
      for (const b of rows) {
        inResult.add(b.viewerId);
        // cached profiles count with their own values (below); erased viewers stay out
        if (run.forgotten.has(b.viewerId) || isCached(channel, b.viewerId)) continue;
        m.register(b.viewerId, { orders: b.orders, spend: b.spend, lastAt: b.lastAt });
      }
      // no longer a buyer in the window (and not cached): out of the distribution
      for (const id of m.viewerIds()) {
        if (!inResult.has(id) && !isCached(channel, id)) m.forget(id);
      }
      // cached profiles keep their own live values (newer than the store's for viewers whose writes
      // are still queued), re-windowed to now as a fresh build of the model would register them
      for (const p of cachedIn(channel)) m.register(p.viewerId, rfmValues(p.purchases, now, lookbackDays));
      this.readAt.set(channel, now);
    } finally {
      if (this.run === run) this.run = null;
    }
  }

  /**
   * Starts the background refresh (unref'd: it never keeps the process up): every `everyMs`,
   * `tick` (the owner's entry point, by default `refresh()`); errors go to `onError`.
   */
  start(onError: (err: unknown) => void, everyMs = DISTRIBUTION_REFRESH_MS, tick: () => Promise<unknown> = () => this.refresh()): void {
    if (this.timer) return;
    const report = (err: unknown) => {
      try {
        onError(err);
      } catch {
        // a failing logger must not become an unhandled rejection of the timer
      }
    };
    this.timer = setInterval(() => {
      try {
        tick().catch(report);
      } catch (err) {
        report(err);
      }
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
