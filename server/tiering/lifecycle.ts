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

/** the newest verified purchase at or before `now` (−Infinity: none) */
function lastPurchaseAt(purchases: readonly VerifiedPurchase[], now: number): number {
  let lastBuy = -Infinity;
  for (const p of purchases) if (p.amount > 0 && p.at <= now && p.at > lastBuy) lastBuy = p.at;
  return lastBuy;
}

/**
 * Checkouts in a row, newest first, that are abandoned: older than an hour and after the last
 * verified purchase. Newest first, the row ends at the first checkout at or before that purchase
 * (every older one is too) and skips checkouts still in progress, so it is a count: no sort.
 */
export function abandonedInRow(input: Pick<LifecycleInput, 'purchases' | 'checkouts'>, now: number): number {
  return abandonedAfter(input.checkouts, lastPurchaseAt(input.purchases, now), now);
}

function abandonedAfter(checkouts: readonly number[], lastBuy: number, now: number): number {
  let n = 0;
  for (const c of checkouts) if (c > lastBuy && now - c >= CHECKOUT_ABANDON_MS) n++;
  return n;
}

/**
 * Expired offers in a row, newest first, with no click and no redemption. Offers that expired at
 * the same moment have no order between them: an engaged one counts as the newer (it breaks the
 * row), so the answer never depends on the order the offers were listed in. Newest first, the row
 * ends at the newest engaged expired offer: it is the ignored ones that expired after it.
 */
export function ignoredInRow(offers: LifecycleInput['offers'], now: number): number {
  let engagedAt = -Infinity;
  for (const o of offers) if (o.engaged && o.expiresAt <= now && o.expiresAt > engagedAt) engagedAt = o.expiresAt;
  let n = 0;
  for (const o of offers) if (!o.engaged && o.expiresAt <= now && o.expiresAt > engagedAt) n++;
  return n;
}

/**
 * A lifecycle and the numbers its reason names, as plain fields: the tier model fills one per
 * assessment and makes the reason only when someone reads it. −1 (NaN for pAlive): not a cause.
 */
export class LifecycleFacts {
  lifecycle: Lifecycle = 'active';
  /** lapsed: days since the last order; new: since first seen; active: since last seen */
  days = 0;
  lapsedDays = 0;
  noVisitDays = -1;
  abandonedCheckouts = -1;
  ignoredOffers = -1;
  pAlive = NaN;
  atRiskPAlive = 0;
}

/** Decides the lifecycle into `out` (no allocation); `pAlive` as in `input` unless given. */
export function lifecycleFacts(out: LifecycleFacts, input: LifecycleInput, now: number, rules: LifecycleRules, pAlive = input.pAlive): void {
  const lastBuy = lastPurchaseAt(input.purchases, now);
  out.noVisitDays = out.abandonedCheckouts = out.ignoredOffers = -1;
  out.days = out.lapsedDays = out.atRiskPAlive = 0;
  out.pAlive = NaN;
  if (lastBuy !== -Infinity && now - lastBuy >= rules.lapsedDays * DAY_MS) {
    out.lifecycle = 'lapsed';
    out.days = daysBetween(lastBuy, now);
    out.lapsedDays = rules.lapsedDays;
    return;
  }
  let atRisk = false;
  if (now - input.lastSeenAt >= rules.atRiskDays * DAY_MS) {
    out.noVisitDays = daysBetween(input.lastSeenAt, now);
    atRisk = true;
  }
  const abandoned = abandonedAfter(input.checkouts, lastBuy, now);
  if (abandoned >= rules.abandonedCheckouts) {
    out.abandonedCheckouts = abandoned;
    atRisk = true;
  }
  const ignored = ignoredInRow(input.offers, now);
  if (ignored >= rules.ignoredOffers) {
    out.ignoredOffers = ignored;
    atRisk = true;
  }
  const below = rules.atRiskPAlive ?? DEFAULT_AT_RISK_P_ALIVE;
  if (pAlive != null && below > 0 && pAlive < below) {
    out.pAlive = Math.round(pAlive * 100) / 100;
    out.atRiskPAlive = below;
    atRisk = true;
  }
  if (atRisk) out.lifecycle = 'at_risk';
  else if (now - input.firstSeenAt < rules.newDays * DAY_MS) {
    out.lifecycle = 'new';
    out.days = daysBetween(input.firstSeenAt, now);
  } else {
    out.lifecycle = 'active';
    out.days = daysBetween(input.lastSeenAt, now);
  }
}

/** The reason of a lifecycle decided by `lifecycleFacts`. */
export function lifecycleReason(f: LifecycleFacts): Explain {
  switch (f.lifecycle) {
    case 'lapsed':
      return reason('lifecycle.lapsed', { days: f.days, lapsedDays: f.lapsedDays });
    case 'at_risk': {
      const risk: { noVisitDays?: number; abandonedCheckouts?: number; ignoredOffers?: number; pAlive?: number; atRiskPAlive?: number } = {};
      if (f.noVisitDays >= 0) risk.noVisitDays = f.noVisitDays;
      if (f.abandonedCheckouts >= 0) risk.abandonedCheckouts = f.abandonedCheckouts;
      if (f.ignoredOffers >= 0) risk.ignoredOffers = f.ignoredOffers;
      if (!Number.isNaN(f.pAlive)) {
        risk.pAlive = f.pAlive;
        risk.atRiskPAlive = f.atRiskPAlive;
      }
      return reason('lifecycle.atRisk', risk);
    }
    case 'new':
      return reason('lifecycle.new', { days: f.days });
    default:
      return reason('lifecycle.active', { days: f.days });
  }
}

/** whether two decided lifecycles give the same reason */
export function sameLifecycle(a: LifecycleFacts, b: LifecycleFacts): boolean {
  return (
    a.lifecycle === b.lifecycle && a.days === b.days && a.lapsedDays === b.lapsedDays && a.noVisitDays === b.noVisitDays &&
    a.abandonedCheckouts === b.abandonedCheckouts && a.ignoredOffers === b.ignoredOffers &&
    (a.pAlive === b.pAlive || (Number.isNaN(a.pAlive) && Number.isNaN(b.pAlive))) && a.atRiskPAlive === b.atRiskPAlive
  );
}

export function computeLifecycle(input: LifecycleInput, now: number, rules: LifecycleRules): LifecycleResult {
  const f = new LifecycleFacts();
  lifecycleFacts(f, input, now, rules);
  return lifecycleResult(f.lifecycle, lifecycleReason(f));
}
