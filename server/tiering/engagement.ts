/**
 * Engagement: points per activity, weighted so recent activity counts more (half-life 14 days),
 * and a 1–5 score. The weighted sum is kept time-invariantly as Σ points · 2^((t − EPOCH) / HALF_LIFE):
 * adding an activity is one addition whatever the order of arrival, and the value at `now` is that
 * sum · 2^(−(now − EPOCH) / HALF_LIFE). Every viewer decays at the same rate, so the stored sum also
 * orders viewers by current engagement (the list's `sort=engagement`).
 */

const DAY_MS = 86_400_000;
export const ENGAGEMENT_HALF_LIFE_MS = 14 * DAY_MS;
/** 2025-01-01 UTC; 2^(elapsed / 14 days) stays far below the double range for decades */
export const ENGAGEMENT_EPOCH = Date.UTC(2025, 0, 1);

export const ENGAGEMENT_POINTS = {
  /** per credited minute of watch time */
  watchMinute: 1,
  comment: 2,
  /** per like event, whatever its count (a like burst is one gesture) */
  like: 0.25,
  productView: 1,
  addToCart: 3,
} as const;

/** score = 1 + the number of these thresholds the current points reach */
export const ENGAGEMENT_THRESHOLDS = [2, 8, 20, 50] as const;

/** Undecayed points of a batch of activity (counts of each kind; `likeEvents` counts like events). */
export function engagementPoints(d: { watchMs: number; comments: number; likeEvents: number; productViews: number; addToCarts: number }): number {
  return (
    (d.watchMs / 60_000) * ENGAGEMENT_POINTS.watchMinute +
    d.comments * ENGAGEMENT_POINTS.comment +
    d.likeEvents * ENGAGEMENT_POINTS.like +
    d.productViews * ENGAGEMENT_POINTS.productView +
    d.addToCarts * ENGAGEMENT_POINTS.addToCart
  );
}

/** the time-invariant weight of points earned at `at` */
export function engagementWeight(at: number): number {
  return 2 ** ((at - ENGAGEMENT_EPOCH) / ENGAGEMENT_HALF_LIFE_MS);
}

/** current (decayed) points from the weighted sum */
export function engagementNow(weighted: number, now: number): number {
  return weighted / engagementWeight(now);
}

export function engagementScore(weighted: number, now: number): number {
  return scoreOfPoints(engagementNow(weighted, now));
}

/** the 1–5 score of current points */
export function scoreOfPoints(pts: number): number {
  let s = 1;
  for (const t of ENGAGEMENT_THRESHOLDS) if (pts >= t - 1e-9) s++;
  return s;
}

