/**
 * The tier model: pure functions over plain data. No I/O, no clock of its own.
 *
 * Defaults (the out-of-the-box rules):
 * - high      = ≥ 2 verified purchases and ≥ 100000 minor units spent in the last 90 days
 * - mid       = ≥ 1 verified purchase in the last 180 days
 * - potential = everyone else
 */
import type { Tier } from '../realtime/events.js';
import { explainAll, explainText, reason, type Explain } from './explain.js';

const DAY_MS = 86_400_000;

export interface TierRules {
  high: { minOrders: number; minSpend: number; windowDays: number };
  mid: { minOrders: number; windowDays: number };
}

export const DEFAULT_RULES: TierRules = {
  high: { minOrders: 2, minSpend: 100_000, windowDays: 90 },
  mid: { minOrders: 1, windowDays: 180 },
};

/** A verified purchase as the model needs it. `amount` is net of refunds, in minor units. */
export interface VerifiedPurchase {
  orderId: string;
  amount: number;
  at: number;
}

export interface Engagement {
  watchMs: number;
  comments: number;
  likes: number;
  productViews: number;
  addToCarts: number;
}

export interface ViewerProfile {
  /** verified purchases, any order; the model only looks at those inside its windows */
  purchases: VerifiedPurchase[];
  engagement: Engagement;
  currency?: string;
}

export interface TierResult {
  tier: Tier;
  /** the reasons as codes and parameters (server/tiering/explain.ts) */
  explain: Explain[];
  /** the same in English */
  readonly reasons: string[];
}

export function emptyEngagement(): Engagement {
  return { watchMs: 0, comments: 0, likes: 0, productViews: 0, addToCarts: 0 };
}

function windowStats(purchases: VerifiedPurchase[], now: number, days: number) {
  const since = now - days * DAY_MS;
  let orders = 0;
  let spend = 0;
  for (const p of purchases) {
    if (p.at >= since && p.at <= now && p.amount > 0) {
      orders++;
      spend += p.amount;
    }
  }
  return { orders, spend };
}

export { formatMoney, plural } from './explain.js';

/** What the viewer did, as a reason's parameters; null when nothing yet. */
export function engagementReason(e: Engagement): Explain | null {
  const watchMinutes = Math.floor(e.watchMs / 60_000);
  if (watchMinutes <= 0 && e.comments <= 0 && e.likes <= 0 && e.productViews <= 0 && e.addToCarts <= 0) return null;
  return reason('engagement.activity', { watchMinutes, comments: e.comments, likes: e.likes, productViews: e.productViews, addToCarts: e.addToCarts });
}

/** "watched 12 minutes, 3 comments" (English), or null */
export function describeEngagement(e: Engagement): string | null {
  const r = engagementReason(e);
  return r ? explainText(r) : null;
}

/** A tier with its reasons as codes; `reasons` is their English text, made only when read. */
function tierResult(tier: Tier, explain: Explain[]): TierResult {
  return {
    tier,
    explain,
    get reasons() {
      return explainAll(this.explain);
    },
  };
}

/** Decides a viewer's tier and says why, with the numbers. */
export function computeTier(profile: ViewerProfile, now: number, rules: TierRules = DEFAULT_RULES): TierResult {
  const currency = profile.currency ?? 'CNY';
  const hi = windowStats(profile.purchases, now, rules.high.windowDays);
  if (hi.orders >= rules.high.minOrders && hi.spend >= rules.high.minSpend) {
    return tierResult('high', [
      reason('tier.high', { orders: hi.orders, spend: hi.spend, currency, windowDays: rules.high.windowDays, minOrders: rules.high.minOrders, minSpend: rules.high.minSpend }),
    ]);
  }
  const mid = windowStats(profile.purchases, now, rules.mid.windowDays);
  if (mid.orders >= rules.mid.minOrders) {
    const explain = [reason('tier.mid', { orders: mid.orders, spend: mid.spend, currency, windowDays: rules.mid.windowDays })];
    if (hi.orders < rules.high.minOrders) {
      explain.push(reason('tier.toHigh.orders', { more: rules.high.minOrders - hi.orders, windowDays: rules.high.windowDays }));
    } else {
      explain.push(reason('tier.toHigh.spend', { spend: rules.high.minSpend - hi.spend, currency, windowDays: rules.high.windowDays }));
    }
    return tierResult('mid', explain);
  }
  const explain = [reason('tier.noPurchase', { windowDays: rules.mid.windowDays })];
  const engaged = engagementReason(profile.engagement);
  if (engaged) explain.push(engaged);
  return tierResult('potential', explain);
}

/** The time at which the result of `computeTier` may change with no new input (a purchase leaving a window). */
export function nextTierChangeAt(profile: ViewerProfile, now: number, rules: TierRules = DEFAULT_RULES): number | null {
  let next: number | null = null;
  for (const p of profile.purchases) {
    for (const days of [rules.high.windowDays, rules.mid.windowDays]) {
      const leaves = p.at + days * DAY_MS + 1;
      if (leaves > now && (next === null || leaves < next)) next = leaves;
    }
  }
  return next;
}
