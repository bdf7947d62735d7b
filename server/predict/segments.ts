/**
 * Segments the data finds (issue 15): K-means (./kmeans.ts, K from 2 to 8 by the sampled
 * silhouette) over each buyer's log-scaled recency, frequency, monetary value and engagement in the
 * last 365 days, each segment described by what its buyers do: their share of buyers and of GMV,
 * how often they buy, what they spend against the average, how recently. Pure: the caller passes
 * the purchases, the engagement and `now`; it runs in the fit's worker. Seeded, so one channel's
 * data gives the same segments every time.
 */
import { segmentCustomers } from './kmeans.js';
import { seededRandom } from './rng.js';
import type { ModelPurchase } from './channel-model.js';

const DAY_MS = 86_400_000;
export const SEGMENT_LOOKBACK_DAYS = 365;
/** fewer buyers than this: no segments (a handful of points says nothing about groups) */
export const MIN_SEGMENT_BUYERS = 30;

export interface Segment {
  /** 0 = the largest */
  id: number;
  buyers: number;
  /** share of the channel's buyers (0–1) */
  share: number;
  /** share of the channel's GMV in the lookback (0–1) */
  gmvShare: number;
  /** the typical member: purchase days a month, spend per buyer, days since the last purchase, engagement points */
  ordersPerMonth: number;
  spend: number;
  /** mean spend of the segment ÷ mean spend of all buyers */
  spendRatio: number;
  recencyDays: number;
  engagement: number;
}

export interface Segments {
  fittedAt: number;
  buyers: number;
  k: number;
  silhouette: number;
  segments: Segment[];
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function findSegments(purchases: readonly ModelPurchase[], engagement: ReadonlyMap<string, number>, now: number): Segments | null {
  const since = now - SEGMENT_LOOKBACK_DAYS * DAY_MS;
  const byViewer = new Map<string, { days: Set<number>; spend: number; last: number }>();
  for (const p of purchases) {
    if (!(p.amount > 0) || p.at > now || p.at < since) continue;
    let v = byViewer.get(p.viewerId);
    if (!v) byViewer.set(p.viewerId, (v = { days: new Set(), spend: 0, last: -Infinity }));
    v.days.add(Math.floor(p.at / DAY_MS));
    v.spend += p.amount;
    if (p.at > v.last) v.last = p.at;
  }
  const ids = [...byViewer.keys()].sort();
  if (ids.length < MIN_SEGMENT_BUYERS) return null;
  const rows = ids.map((id) => {
    const v = byViewer.get(id)!;
    return { recency: (now - v.last) / DAY_MS, frequency: v.days.size, monetary: v.spend, engagement: engagement.get(id) ?? 0 };
  });
  const result = segmentCustomers(
    rows.map((r) => [r.recency, r.frequency, r.monetary, r.engagement]),
    { random: seededRandom(15), kMin: 2, kMax: 8 },
  );
  const total = rows.reduce((a, r) => a + r.monetary, 0);
  const meanSpend = total / rows.length;
  const segments = result.clusters.map((c, id) => {
    const members = rows.filter((_, i) => result.labels[i] === id);
    const spend = members.reduce((a, r) => a + r.monetary, 0);
    return {
      id,
      buyers: members.length,
      share: round(c.share, 4),
      gmvShare: round(total ? spend / total : 0, 4),
      ordersPerMonth: round(median(members.map((r) => r.frequency)) / 12, 2),
      spend: Math.round(median(members.map((r) => r.monetary))),
      spendRatio: round(members.length && meanSpend ? spend / members.length / meanSpend : 0, 2),
      recencyDays: Math.round(median(members.map((r) => r.recency))),
      engagement: round(median(members.map((r) => r.engagement)), 1),
    };
  });
  return { fittedAt: now, buyers: rows.length, k: result.k, silhouette: round(result.silhouette, 4), segments };
}
