/**
 * The stream minute by minute, for the host's chart and the report: viewers watching, orders and
 * GMV per minute. Pure: built from samples of the host summary (the numbers the host reads, so in
 * cluster mode watching-now adds up every process's viewers and the totals come from the
 * database), one entry per minute, never a scan of events. Each field is defined once here and in
 * docs/api.md:
 *
 *   t          the minute's start (ms since epoch, server clock, a multiple of 60,000)
 *   watching   viewers connected at the minute's last sample: at its end, or now for the current
 *              minute. A minute in which nothing was sampled (nothing changed) keeps the count of
 *              the minute before it
 *   orders     orders recorded during the minute: the stream's order count at the minute's last
 *              sample minus the count at the previous minute's (a refund does not remove an order)
 *   gmv        verified GMV recorded during the minute, net of the refunds recorded in it (minor
 *              units; negative in a minute that refunded more than it sold)
 *
 * The first sampled minute also holds what was recorded before the first sample, so the series
 * adds up to the stream's orders and GMV. It keeps the last MINUTES_MAX minutes.
 */
import type { MinutePoint } from '../realtime/events.js';

export type { MinutePoint };

export const MINUTE_MS = 60_000;
/** minutes kept (a day): the snapshot and the report carry at most this many */
export const MINUTES_MAX = 24 * 60;

/** The host summary at one moment: viewers connected, and the stream's running totals. */
export interface MinuteSample {
  at: number;
  connected: number;
  orders: number;
  gmv: number;
}

/** the last sample of one minute, `t` being the minute's start */
type Last = Omit<MinuteSample, 'at'> & { t: number };

export const minuteOf = (at: number) => Math.floor(at / MINUTE_MS) * MINUTE_MS;

export class MinuteSeries {
  /** the last sample of each sampled minute, oldest first (the first may only be the base of the next one's counts) */
  private minutes: Last[] = [];

  /**
   * Records a sample: the latest of its minute wins. Returns the minutes it changed, oldest first:
   * the quiet minutes between the previous sampled minute and its own (filled in), its own, and
   * the next sampled minute's (whose counts start from this one).
   */
  add(s: MinuteSample): MinutePoint[] {
    const t = minuteOf(s.at);
    const last: Last = { t, connected: s.connected, orders: s.orders, gmv: s.gmv };
    const m = this.minutes;
    let i = m.length;
    while (i > 0 && m[i - 1]!.t >= t) i--;
    if (m[i]?.t === t) m[i] = last;
    else m.splice(i, 0, last);
    const changed = [...this.pointsOf(i), ...(i + 1 < m.length ? this.pointsOf(i + 1) : [])];
    // the window keeps MINUTES_MAX points, each sampled minute at least one: one more is the base
    if (m.length > MINUTES_MAX + 1) m.splice(0, m.length - MINUTES_MAX - 1);
    return changed.slice(-MINUTES_MAX);
  }

  /** the series, oldest first, the quiet minutes filled in; at most MINUTES_MAX minutes (the newest) */
  points(): MinutePoint[] {
    const out: MinutePoint[] = [];
    for (let i = 0; i < this.minutes.length; i++) out.push(...this.pointsOf(i));
    return out.length > MINUTES_MAX ? out.slice(-MINUTES_MAX) : out;
  }

  /** the samples it holds (the last of each minute), for merging into another series */
  samples(): MinuteSample[] {
    return this.minutes.map(({ t, ...rest }) => ({ at: t, ...rest }));
  }

  /** sampled minute i: the quiet minutes since the one before (nothing recorded, the same viewers), then its own */
  private pointsOf(i: number): MinutePoint[] {
    const cur = this.minutes[i]!;
    const prev = this.minutes[i - 1];
    const out: MinutePoint[] = [];
    if (prev) {
      const quiet = Math.min(MINUTES_MAX, (cur.t - prev.t) / MINUTE_MS - 1);
      for (let k = quiet; k >= 1; k--) out.push({ t: cur.t - k * MINUTE_MS, watching: prev.connected, orders: 0, gmv: 0 });
    }
    out.push({ t: cur.t, watching: cur.connected, orders: cur.orders - (prev?.orders ?? 0), gmv: cur.gmv - (prev?.gmv ?? 0) });
    return out;
  }
}
