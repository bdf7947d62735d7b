/**
 * The tier model: pure functions over plain data. No I/O, no clock of its own.
 *
 * Defaults (the out-of-the-box rules):
 * - high      = ≥ 2 verified purchases and ≥ 100000 minor units spent in the last 90 days
 * - mid       = ≥ 1 verified purchase in the last 180 days
 * - potential = everyone else
 */
import type { Tier } from '../realtime/events.js';

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
  reasons: string[];
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

/** Intl.NumberFormat is costly to build: one per currency and fraction style, built on first use (null: unknown currency). */
const moneyFormats = new Map<string, Intl.NumberFormat | null>();
function moneyFormat(currency: string, cents: boolean): Intl.NumberFormat | null {
  const key = cents ? `${currency}.` : currency;
  let f = moneyFormats.get(key);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat('en', {
        style: 'currency',
        currency,
        currencyDisplay: 'narrowSymbol',
        minimumFractionDigits: cents ? 2 : 0,
        maximumFractionDigits: 2,
      });
    } catch {
      f = null;
    }
    // the currency is client input: keep the cache bounded
    if (moneyFormats.size >= 256) moneyFormats.clear();
    moneyFormats.set(key, f);
  }
  return f;
}

/** Formats minor units as money, e.g. 179700 CNY → "¥1,797". Whole units when there are no cents. */
export function formatMoney(minor: number, currency = 'CNY'): string {
  const major = minor / 100;
  const f = moneyFormat(currency, !Number.isInteger(major));
  return f ? f.format(major) : `${major.toFixed(2)} ${currency}`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function describeEngagement(e: Engagement): string | null {
  const parts: string[] = [];
  const minutes = Math.floor(e.watchMs / 60_000);
  if (minutes > 0) parts.push(`watched ${plural(minutes, 'minute')}`);
  if (e.comments > 0) parts.push(plural(e.comments, 'comment'));
  if (e.likes > 0) parts.push(plural(e.likes, 'like'));
  if (e.productViews > 0) parts.push(plural(e.productViews, 'product view'));
  if (e.addToCarts > 0) parts.push(plural(e.addToCarts, 'add-to-cart'));
  return parts.length ? parts.join(', ') : null;
}

/** Decides a viewer's tier and says why, with the numbers. */
export function computeTier(profile: ViewerProfile, now: number, rules: TierRules = DEFAULT_RULES): TierResult {
  const cur = profile.currency ?? 'CNY';
  const hi = windowStats(profile.purchases, now, rules.high.windowDays);
  if (hi.orders >= rules.high.minOrders && hi.spend >= rules.high.minSpend) {
    return {
      tier: 'high',
      reasons: [
        `${plural(hi.orders, 'verified order')}, ${formatMoney(hi.spend, cur)} in ${rules.high.windowDays} days` +
          ` (high needs ${rules.high.minOrders}+ orders and ${formatMoney(rules.high.minSpend, cur)}+)`,
      ],
    };
  }
  const mid = windowStats(profile.purchases, now, rules.mid.windowDays);
  if (mid.orders >= rules.mid.minOrders) {
    const reasons = [`${plural(mid.orders, 'verified order')}, ${formatMoney(mid.spend, cur)} in ${rules.mid.windowDays} days`];
    if (hi.orders < rules.high.minOrders) {
      reasons.push(`${rules.high.minOrders - hi.orders} more order(s) in ${rules.high.windowDays} days to reach high`);
    } else {
      reasons.push(`${formatMoney(rules.high.minSpend - hi.spend, cur)} more spend in ${rules.high.windowDays} days to reach high`);
    }
    return { tier: 'mid', reasons };
  }
  const reasons = [`no verified purchase in ${rules.mid.windowDays} days`];
  const engaged = describeEngagement(profile.engagement);
  if (engaged) reasons.push(engaged);
  return { tier: 'potential', reasons };
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
