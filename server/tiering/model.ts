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

/**
 * The absolute rules' decision and the numbers its reasons name, as plain fields (no allocation):
 * orders and net spend within the high and the mid window.
 */
export class AbsoluteFacts {
  tier: Tier = 'potential';
  hiOrders = 0;
  hiSpend = 0;
  midOrders = 0;
  midSpend = 0;
}

/** Decides the tier under the absolute rules into `out`. */
export function absoluteFacts(out: AbsoluteFacts, purchases: readonly VerifiedPurchase[], now: number, rules: TierRules): void {
  const hiSince = now - rules.high.windowDays * DAY_MS;
  const midSince = now - rules.mid.windowDays * DAY_MS;
  let hiOrders = 0;
  let hiSpend = 0;
  let midOrders = 0;
  let midSpend = 0;
  for (const p of purchases) {
    if (!(p.amount > 0) || p.at > now) continue;
    if (p.at >= hiSince) {
      hiOrders++;
      hiSpend += p.amount;
    }
    if (p.at >= midSince) {
      midOrders++;
      midSpend += p.amount;
    }
  }
  out.hiOrders = hiOrders;
  out.hiSpend = hiSpend;
  out.midOrders = midOrders;
  out.midSpend = midSpend;
  out.tier = hiOrders >= rules.high.minOrders && hiSpend >= rules.high.minSpend ? 'high' : midOrders >= rules.mid.minOrders ? 'mid' : 'potential';
}

/** The reasons of a tier decided by `absoluteFacts`; `engaged`: what the viewer did (named for a potential viewer). */
export function absoluteExplain(f: AbsoluteFacts, rules: TierRules, currency: string, engaged: Explain | null): Explain[] {
  if (f.tier === 'high') {
    return [reason('tier.high', { orders: f.hiOrders, spend: f.hiSpend, currency, windowDays: rules.high.windowDays, minOrders: rules.high.minOrders, minSpend: rules.high.minSpend })];
  }
  if (f.tier === 'mid') {
    const explain = [reason('tier.mid', { orders: f.midOrders, spend: f.midSpend, currency, windowDays: rules.mid.windowDays })];
    if (f.hiOrders < rules.high.minOrders) {
      explain.push(reason('tier.toHigh.orders', { more: rules.high.minOrders - f.hiOrders, windowDays: rules.high.windowDays }));
    } else {
      explain.push(reason('tier.toHigh.spend', { spend: rules.high.minSpend - f.hiSpend, currency, windowDays: rules.high.windowDays }));
    }
    return explain;
  }
  const explain = [reason('tier.noPurchase', { windowDays: rules.mid.windowDays })];
  if (engaged) explain.push(engaged);
  return explain;
}

/** whether two decisions give the same reasons (the engagement named beside a potential tier compared by the caller) */
export function sameAbsolute(a: AbsoluteFacts, b: AbsoluteFacts): boolean {
  if (a.tier !== b.tier) return false;
  if (a.tier === 'high') return a.hiOrders === b.hiOrders && a.hiSpend === b.hiSpend;
  if (a.tier === 'mid') return a.midOrders === b.midOrders && a.midSpend === b.midSpend && a.hiOrders === b.hiOrders && a.hiSpend === b.hiSpend;
  return true;
}

/** Decides a viewer's tier and says why, with the numbers. */
export function computeTier(profile: ViewerProfile, now: number, rules: TierRules = DEFAULT_RULES): TierResult {
  const f = new AbsoluteFacts();
  absoluteFacts(f, profile.purchases, now, rules);
  return tierResult(f.tier, absoluteExplain(f, rules, profile.currency ?? 'CNY', f.tier === 'potential' ? engagementReason(profile.engagement) : null));
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
