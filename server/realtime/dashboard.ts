/**
 * The live state behind the host dashboard, per stream: the audience-by-tier trend, the stream
 * minute by minute (watching now, orders, GMV: stats/minutes.ts), the recent activity, the funnel
 * (recomputed at most once a second) and the latest poll's results. The trend and the activity
 * live in memory and are saved to the store about once a second (the trend at its finest
 * resolution, the newest activity lines this process produced), and read back when a stream's
 * dashboard is first used, so a restart or a deploy mid-show keeps the host's history, and every
 * process of a cluster serves the same one. Each trend point carries the stream's running orders
 * and GMV, so the per-minute series needs no storage of its own: it is rebuilt from the stored
 * trend. The funnel and the polls come from the store. No sockets here: host.ts sends what this
 * returns.
 */
import { randomBytes } from 'node:crypto';
import type { StoredActivity, Store } from '../store/types.js';
import { streamKpis, streamLengthMs } from '../stats/kpis.js';
import { MinuteSeries } from '../stats/minutes.js';
import type { ActivityEvent } from '../engine.js';
import type { ActivityItem, MinutePoint, PollPayload, PollResults, StreamFunnel, StreamSummary, TrendPoint } from './events.js';

/** a trend point per this many ms at first; the step doubles whenever the series would exceed TREND_MAX_POINTS */
export const TREND_STEP_MS = 5_000;
export const TREND_MAX_POINTS = 720;
/** how many activity items a host gets on connect (the newest) */
export const ACTIVITY_BACKLOG = 50;
/** at most this many activity items per update (the newest) */
export const ACTIVITY_MAX_PER_UPDATE = 200;
/** the funnel is a scan of the stream's viewers: at most one per this many ms per stream */
export const FUNNEL_MIN_INTERVAL_MS = 1_000;
/** results of a closed poll are still refreshed this long (answers in flight when it closed) */
const POLL_GRACE_MS = 5_000;
/** the history is saved at most this often per stream */
export const HISTORY_SAVE_MS = 1_000;
/** activity lines kept in the store per stream */
export const ACTIVITY_KEPT = ACTIVITY_BACKLOG * 2;

interface StreamDash {
  trend: TrendPoint[];
  step: number;
  /** the stream minute by minute, from the same samples as the trend */
  minutes: MinuteSeries;
  activity: ActivityItem[];
  pending: ActivityItem[];
  funnel: StreamFunnel | null;
  funnelKey: string;
  funnelAt: number;
  poll: PollResults | null;
  pollKey: string;
  /** activity lines made here, not saved yet (the newest ACTIVITY_BACKLOG) */
  unsaved: StoredActivity[];
  /** trend points from this time on are saved at the next save (the last one may have been revised) */
  unsavedFrom: number;
  saveTimer: NodeJS.Timeout | null;
}

export class Dashboard {
  private readonly streams = new Map<string, StreamDash>();
  private readonly loaded = new Map<string, Promise<void>>();
  private nextActivityId = 1;
  /** this process's part of an activity line's stored key */
  private readonly tag = randomBytes(6).toString('base64url');

  constructor(
    private readonly queries: Store,
    private readonly onError: (err: unknown, streamId: string) => void = () => {},
  ) {}

  private state(streamId: string): StreamDash {
    let d = this.streams.get(streamId);
    if (!d) {
      d = {
        trend: [], step: TREND_STEP_MS, minutes: new MinuteSeries(), activity: [], pending: [], funnel: null, funnelKey: '', funnelAt: -Infinity, poll: null, pollKey: '',
        unsaved: [], unsavedFrom: Infinity, saveTimer: null,
      };
      this.streams.set(streamId, d);
    }
    return d;
  }

  /**
   * Reads the stream's stored history once (later calls wait for the same read): the stored trend
   * under what this process sampled meanwhile, the stored activity lines before its own. A read
   * that fails is tried again on the next call.
   */
  ready(streamId: string): Promise<void> {
    let p = this.loaded.get(streamId);
    if (!p) {
      p = this.queries.hostHistory(streamId, ACTIVITY_BACKLOG).then((h) => {
        const d = this.state(streamId);
        const mine = new Set(d.trend.map((x) => x.t));
        const trend = [...h.points.filter((x) => !mine.has(x.t)), ...d.trend].sort((a, b) => a.t - b.t);
        d.trend = trend;
        // the minutes from the stored points (those that carry the totals), under the ones sampled here meanwhile
        const minutes = new MinuteSeries();
        for (const x of trend) if (x.orders !== undefined && x.gmv !== undefined) minutes.add({ at: x.t, connected: x.connected, orders: x.orders, gmv: x.gmv });
        for (const x of d.minutes.samples()) minutes.add(x);
        d.minutes = minutes;
        while (d.trend.length > TREND_MAX_POINTS) this.halve(d);
        const known = new Set(d.unsaved.map((x) => x.key));
        const stored = h.items.filter((x) => !known.has(x.key)).map((x) => ({ ...x.item, id: this.nextActivityId++ }) as ActivityItem);
        d.activity = [...stored, ...d.activity].slice(-ACTIVITY_BACKLOG * 2);
      });
      this.loaded.set(streamId, p);
      p.catch((err) => {
        this.loaded.delete(streamId);
        this.onError(err, streamId);
      });
    }
    return p.catch(() => {});
  }

  /** Saves what changed about once a second (a timer per stream with something unsaved). */
  private scheduleSave(streamId: string, d: StreamDash) {
    if (d.saveTimer) return;
    d.saveTimer = setTimeout(() => void this.save(streamId, d), HISTORY_SAVE_MS);
    d.saveTimer.unref?.();
  }

  private async save(streamId: string, d: StreamDash) {
    if (d.saveTimer) clearTimeout(d.saveTimer);
    d.saveTimer = null;
    const items = d.unsaved.splice(0);
    const points = d.trend.filter((p) => p.t >= d.unsavedFrom);
    d.unsavedFrom = Infinity;
    if (!items.length && !points.length) return;
    await this.queries.saveHostHistory(streamId, { points, items }, ACTIVITY_KEPT).catch((err) => this.onError(err, streamId));
  }

  /** Saves what is unsaved now (the app is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.streams].filter(([, d]) => d.saveTimer).map(([id, d]) => this.save(id, d)));
  }

  /**
   * A line for the activity feed; sent with the next update. `local`: made by this process (saved
   * by it); a line another process made (cluster mode) is saved by that one.
   */
  addActivity(streamId: string, event: ActivityEvent, local = true) {
    const d = this.state(streamId);
    const item = { ...event, id: this.nextActivityId++ } as ActivityItem;
    if (local) {
      d.unsaved.push({ key: `${event.at}-${this.tag}-${item.id}`, item });
      if (d.unsaved.length > ACTIVITY_BACKLOG) d.unsaved.splice(0, d.unsaved.length - ACTIVITY_BACKLOG);
      this.scheduleSave(streamId, d);
    }
    d.activity.push(item);
    if (d.activity.length > ACTIVITY_BACKLOG * 2) d.activity.splice(0, d.activity.length - ACTIVITY_BACKLOG);
    d.pending.push(item);
    // a flood (hundreds of comments a second) is thinned to the newest lines: no host reads more per update
    if (d.pending.length > ACTIVITY_MAX_PER_UPDATE * 2) d.pending.splice(0, d.pending.length - ACTIVITY_MAX_PER_UPDATE);
  }

  /** Activity since the last call (oldest first). */
  takeActivity(streamId: string): ActivityItem[] {
    const d = this.state(streamId);
    const items = d.pending.length > ACTIVITY_MAX_PER_UPDATE ? d.pending.slice(-ACTIVITY_MAX_PER_UPDATE) : d.pending;
    d.pending = [];
    return items;
  }

  recentActivity(streamId: string): ActivityItem[] {
    return this.state(streamId).activity.slice(-ACTIVITY_BACKLOG);
  }

  /**
   * Records the summary in the trend (a new point, or the current bucket's point revised) and in
   * the per-minute series. Returns the trend's point and the minutes that changed.
   */
  sample(summary: StreamSummary, now: number): { point: TrendPoint; minutes: MinutePoint[] } {
    const d = this.state(summary.streamId);
    const t = Math.floor(now / d.step) * d.step;
    const lifecycle = (summary as StreamSummary & { lifecycle?: Record<string, number> }).lifecycle;
    const point: TrendPoint = {
      t, connected: summary.connected, ...summary.tiers, ...(lifecycle ? { lifecycle: { ...lifecycle } } : {}), orders: summary.orders, gmv: summary.gmv,
    };
    const minutes = d.minutes.add({ at: now, connected: summary.connected, orders: summary.orders, gmv: summary.gmv });
    const last = d.trend[d.trend.length - 1];
    if (last && last.t >= t) d.trend[d.trend.length - 1] = { ...point, t: last.t };
    else d.trend.push(point);
    const saved = d.trend[d.trend.length - 1]!;
    d.unsavedFrom = Math.min(d.unsavedFrom, saved.t);
    this.scheduleSave(summary.streamId, d);
    if (d.trend.length > TREND_MAX_POINTS) this.halve(d);
    return { point: d.trend[d.trend.length - 1]!, minutes };
  }

  /** halves the trend's resolution: the latest point of every two-step bucket */
  private halve(d: StreamDash) {
    d.step *= 2;
    const merged = new Map<number, TrendPoint>();
    for (const p of d.trend) merged.set(Math.floor(p.t / d.step) * d.step, p);
    d.trend = [...merged.values()];
  }

  trend(streamId: string): TrendPoint[] {
    return this.state(streamId).trend.slice();
  }

  /**
   * The stream minute by minute, oldest first (stats/minutes.ts); with `latest`, as if that summary
   * had been sampled too (the report's, so its minutes add up to its orders and GMV), without
   * keeping it.
   */
  minutes(streamId: string, latest?: { summary: StreamSummary; now: number }): MinutePoint[] {
    const series = this.state(streamId).minutes;
    if (!latest) return series.points();
    const copy = new MinuteSeries();
    for (const x of series.samples()) copy.add(x);
    const { summary, now } = latest;
    copy.add({ at: now, connected: summary.connected, orders: summary.orders, gmv: summary.gmv });
    return copy.points();
  }

  /**
   * The funnel, recomputed when the last computation is old enough. `changed` is false when it
   * is the same as last sent; `due` is the time a throttled computation becomes possible.
   */
  async funnel(summary: StreamSummary, now: number, force = false): Promise<{ funnel: StreamFunnel; changed: boolean; due: number | null }> {
    const d = this.state(summary.streamId);
    if (!force && d.funnel && now - d.funnelAt < FUNNEL_MIN_INTERVAL_MS) {
      return { funnel: d.funnel, changed: false, due: d.funnelAt + FUNNEL_MIN_INTERVAL_MS };
    }
    // the computation is stamped before the query, so concurrent flushes do not run it twice
    d.funnelAt = now;
    const stream = await this.queries.getStream(summary.streamId);
    const [{ total, byTier }, engagement] = await Promise.all([
      this.queries.funnel(summary.channel, summary.streamId),
      this.queries.streamEngagement(summary.channel, summary.streamId, stream?.createdAt ?? now, stream ? streamLengthMs(stream, now) : 0),
    ]);
    const funnel: StreamFunnel = {
      streamId: summary.streamId,
      ...total,
      byTier,
      orders: summary.orders,
      gmv: summary.gmv,
      aov: summary.orders ? Math.round(summary.gmv / summary.orders) : 0,
      kpis: streamKpis(engagement, { gmv: summary.gmv, buyers: total.purchases }, Math.max(this.peakConnected(summary.streamId), summary.connected)),
      updatedAt: now,
    };
    const key = JSON.stringify({ ...funnel, updatedAt: 0 });
    const changed = key !== d.funnelKey;
    d.funnel = funnel;
    d.funnelKey = key;
    d.funnelAt = now;
    return { funnel, changed, due: null };
  }

  /** Opens a poll (closing the previous one) and returns what the viewers get. */
  async openPoll(streamId: string, poll: PollPayload, now: number) {
    await this.queries.openPoll(streamId, poll, now);
    this.state(streamId).pollKey = '';
  }

  /** The latest poll's results; `changed` says whether they differ from the last ones returned with `changed`. */
  async pollResults(streamId: string, now: number): Promise<{ results: PollResults; changed: boolean } | null> {
    const d = this.state(streamId);
    const poll = await this.queries.latestPoll(streamId);
    if (!poll) return null;
    if (d.poll && d.poll.id === poll.id && d.pollKey && now > poll.closesAt + POLL_GRACE_MS) return { results: d.poll, changed: false };
    const counts = await this.queries.pollCounts(streamId, poll.id, poll.closesAt);
    const answers = counts.reduce((a, b) => a + b, 0);
    const results: PollResults = {
      id: poll.id,
      question: poll.question,
      scale: 5,
      closesAt: poll.closesAt,
      counts,
      answers,
      average: answers ? Math.round((counts.reduce((a, n, i) => a + n * (i + 1), 0) / answers) * 100) / 100 : null,
    };
    const key = JSON.stringify(results);
    const changed = key !== d.pollKey;
    d.poll = results;
    d.pollKey = key;
    return { results, changed };
  }

  /** True while the stream's latest poll may still gain answers. */
  pollLive(streamId: string, now: number): boolean {
    const poll = this.state(streamId).poll;
    return !!poll && now <= poll.closesAt + POLL_GRACE_MS;
  }

  peakConnected(streamId: string): number {
    return this.state(streamId).trend.reduce((m, p) => Math.max(m, p.connected), 0);
  }
}
