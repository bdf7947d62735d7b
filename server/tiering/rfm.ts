/**
 * RFM scores 1–5. Convention (the classic quintile scoring, e.g. pandas `qcut(x, 5)`): cut points at
 * the 20/40/60/80% nearest-rank quantiles of the channel's buyers; a value scores 1 + the number of
 * cut points it exceeds (bins are right-closed); recency is reversed (fewer days since the last
 * purchase scores higher): 5 − the number of cut points the days exceed.
 */
import type { VerifiedPurchase } from './model.js';

const DAY_MS = 86_400_000;
export const QUINTILES = [0.2, 0.4, 0.6, 0.8] as const;

/** A buyer's raw RFM values: orders and net spend within the lookback, and the last purchase time. */
export interface RfmValues {
  orders: number;
  spend: number;
  lastAt: number;
}

export interface Scores {
  recency: number | null;
  frequency: number | null;
  monetary: number | null;
  engagement: number;
}

/** Cut points, each ascending: recency in days since the last purchase, frequency in orders, monetary in minor units. */
export interface Cuts {
  source: 'quantiles' | 'absolute';
  buyers: number;
  recency: number[];
  frequency: number[];
  monetary: number[];
}

/** The fixed cut points used while a channel has fewer buyers than its `minBuyers`. */
export const ABSOLUTE_CUTS: Omit<Cuts, 'buyers'> = {
  source: 'absolute',
  recency: [7, 30, 90, 180],
  frequency: [1, 2, 3, 5],
  monetary: [10_000, 30_000, 100_000, 300_000],
};

/** whole UTC days from `at` to `now` */
export function daysBetween(at: number, now: number): number {
  return Math.floor(now / DAY_MS) - Math.floor(at / DAY_MS);
}

/** RFM values of a viewer, or null when there is no net-positive purchase in the lookback window. */
export function rfmValues(purchases: readonly VerifiedPurchase[], now: number, lookbackDays: number): RfmValues | null {
  const since = now - lookbackDays * DAY_MS;
  let orders = 0;
  let spend = 0;
  let lastAt = -Infinity;
  for (const p of purchases) {
    if (p.amount <= 0 || p.at > now || p.at < since) continue;
    orders++;
    spend += p.amount;
    if (p.at > lastAt) lastAt = p.at;
  }
  return orders ? { orders, spend, lastAt } : null;
}

/** 1 + how many cut points `v` exceeds */
export function scoreUp(v: number, cuts: readonly number[]): number {
  let s = 1;
  for (const c of cuts) if (v > c) s++;
  return s;
}

/** 5 − how many cut points `days` exceeds (recency reversed) */
export function scoreRecency(days: number, cuts: readonly number[]): number {
  let s = 5;
  for (const c of cuts) if (days > c) s--;
  return s;
}

/** Exact nearest-rank quintile cut points of plain values (the reference the histogram must match). */
export function exactCuts(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return QUINTILES.map((p) => sorted[Math.max(1, Math.ceil(p * sorted.length - 1e-9)) - 1]!);
}
