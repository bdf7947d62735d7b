/**
 * Lifecycle beside the tier: `lapsed` (bought before, no purchase for `lapsedDays`), `at_risk` (no
 * visit for `atRiskDays`, or `abandonedCheckouts` abandoned checkouts in a row, or the last
 * `ignoredOffers` expired offers all ignored), `new` (first seen within `newDays`), else `active`.
 * When several apply, the first of lapsed, at_risk, new, active wins. Pure: `now` is passed in.
 */
import type { Lifecycle } from '../realtime/events.js';
import { DEFAULT_AT_RISK_P_ALIVE, type LifecycleRules } from './rules.js';
import type { VerifiedPurchase } from './model.js';
import { explainAll, reason, type Explain } from './explain.js';
import { daysBetween } from './rfm.js';

const DAY_MS = 86_400_000;
/** a checkout with no verified purchase within this long counts as abandoned */
export const CHECKOUT_ABANDON_MS = 3_600_000;

export interface LifecycleInput {
  purchases: readonly VerifiedPurchase[];
  firstSeenAt: number;
  lastSeenAt: number;
  /** server times of the viewer's most recent checkout events */
  checkouts: readonly number[];
  /** the viewer's most recent offers (any order) */
  offers: readonly { expiresAt: number; engaged: boolean }[];
  /** the chance this buyer is still active under the channel's predictive model (absent: no model, or not a buyer) */
  pAlive?: number | null;
}

export interface LifecycleResult {
  lifecycle: Lifecycle;
  /** the reason as a code and its parameters (server/tiering/explain.ts) */
  explain: Explain[];
  /** the same in English */
  readonly reasons: string[];
}

function lifecycleResult(lifecycle: Lifecycle, why: Explain): LifecycleResult {
  return {
    lifecycle,
    explain: [why],
    get reasons() {
      return explainAll(this.explain);
    },
  };
}

/** checkouts in a row, newest first, that are abandoned: older than an hour and after the last verified purchase */
export function abandonedInRow(input: Pick<LifecycleInput, 'purchases' | 'checkouts'>, now: number): number {
  let lastBuy = -Infinity;
  for (const p of input.purchases) if (p.amount > 0 && p.at <= now && p.at > lastBuy) lastBuy = p.at;
  const newestFirst = [...input.checkouts].sort((a, b) => b - a);
  let n = 0;
  for (const c of newestFirst) {
    if (c <= lastBuy) break;
    if (now - c < CHECKOUT_ABANDON_MS) continue; // still in progress: neither abandoned nor a break in the row
    n++;
  }
  return n;
}

/**
 * Expired offers in a row, newest first, with no click and no redemption. Offers that expired at
 * the same moment have no order between them: an engaged one counts as the newer (it breaks the
 * row), so the answer never depends on the order the offers were listed in.
 */
export function ignoredInRow(offers: LifecycleInput['offers'], now: number): number {
  const expired = offers.filter((o) => o.expiresAt <= now).sort((a, b) => b.expiresAt - a.expiresAt || Number(b.engaged) - Number(a.engaged));
  let n = 0;
  for (const o of expired) {
    if (o.engaged) break;
    n++;
  }
  return n;
}

export function computeLifecycle(input: LifecycleInput, now: number, rules: LifecycleRules): LifecycleResult {
  let lastBuy: number | null = null;
  for (const p of input.purchases) if (p.amount > 0 && p.at <= now && (lastBuy === null || p.at > lastBuy)) lastBuy = p.at;
  if (lastBuy !== null && now - lastBuy >= rules.lapsedDays * DAY_MS) {
    return lifecycleResult('lapsed', reason('lifecycle.lapsed', { days: daysBetween(lastBuy, now), lapsedDays: rules.lapsedDays }));
  }
  const risk: { noVisitDays?: number; abandonedCheckouts?: number; ignoredOffers?: number; pAlive?: number; atRiskPAlive?: number } = {};
  let atRisk = false;
  if (now - input.lastSeenAt >= rules.atRiskDays * DAY_MS) {
    risk.noVisitDays = daysBetween(input.lastSeenAt, now);
    atRisk = true;
  }
  const abandoned = abandonedInRow(input, now);
  if (abandoned >= rules.abandonedCheckouts) {
    risk.abandonedCheckouts = abandoned;
    atRisk = true;
  }
  const ignored = ignoredInRow(input.offers, now);
  if (ignored >= rules.ignoredOffers) {
    risk.ignoredOffers = ignored;
    atRisk = true;
  }
  const below = rules.atRiskPAlive ?? DEFAULT_AT_RISK_P_ALIVE;
  if (input.pAlive != null && below > 0 && input.pAlive < below) {
    risk.pAlive = Math.round(input.pAlive * 100) / 100;
    risk.atRiskPAlive = below;
    atRisk = true;
  }
  if (atRisk) return lifecycleResult('at_risk', reason('lifecycle.atRisk', risk));
  if (now - input.firstSeenAt < rules.newDays * DAY_MS) return lifecycleResult('new', reason('lifecycle.new', { days: daysBetween(input.firstSeenAt, now) }));
  return lifecycleResult('active', reason('lifecycle.active', { days: daysBetween(input.lastSeenAt, now) }));
}
