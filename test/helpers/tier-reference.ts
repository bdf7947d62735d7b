/**
 * The tier model's evaluation as it was written before it decided in plain numbers and made its
 * reasons lazily (server/tiering/assessment.ts): the straightforward version, kept only as the
 * oracle of the property test in server/tiering/channel.test.ts that the new one gives exactly the same results.
 * (It reads the state's counters, now the state's own fields, through `engagementOf`.)
 */
import type { Tier } from '../../server/realtime/events.js';
import { engagementReason, type TierRules, type VerifiedPurchase, type ViewerProfile } from '../../server/tiering/model.js';
import { reason, type Explain } from '../../server/tiering/explain.js';
import { pAliveOf, predictViewer, topPercentOf } from '../../server/predict/channel-model.js';
import { moneyKey } from '../../server/tiering/histogram.js';
import { daysBetween, rfmValues, type RfmValues, type Scores } from '../../server/tiering/rfm.js';
import { engagementScore } from '../../server/tiering/engagement.js';
import { CHECKOUT_ABANDON_MS, type LifecycleInput } from '../../server/tiering/lifecycle.js';
import { DEFAULT_AT_RISK_P_ALIVE, type LifecycleRules, type ScoreRule } from '../../server/tiering/rules.js';
import type { TierModel } from '../../server/tiering/channel.js';
import { engagementOf, type ViewerState } from '../../server/tiering/state.js';

const DAY_MS = 86_400_000;

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

const tr = (tier: Tier, explain: Explain[]) => ({ tier, explain });

function computeTier(profile: ViewerProfile, now: number, rules: TierRules): { tier: Tier; explain: Explain[] } {
  const currency = profile.currency ?? 'CNY';
  const hi = windowStats(profile.purchases, now, rules.high.windowDays);
  if (hi.orders >= rules.high.minOrders && hi.spend >= rules.high.minSpend) {
    return tr('high', [
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
    return tr('mid', explain);
  }
  const explain = [reason('tier.noPurchase', { windowDays: rules.mid.windowDays })];
  const engaged = engagementReason(profile.engagement);
  if (engaged) explain.push(engaged);
  return tr('potential', explain);
}

const lr = (lifecycle: string, why: Explain) => ({ lifecycle, explain: [why] });

function abandonedInRow(input: Pick<LifecycleInput, 'purchases' | 'checkouts'>, now: number): number {
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
function ignoredInRow(offers: LifecycleInput['offers'], now: number): number {
  const expired = offers.filter((o) => o.expiresAt <= now).sort((a, b) => b.expiresAt - a.expiresAt || Number(b.engaged) - Number(a.engaged));
  let n = 0;
  for (const o of expired) {
    if (o.engaged) break;
    n++;
  }
  return n;
}

function computeLifecycle(input: LifecycleInput, now: number, rules: LifecycleRules): { lifecycle: string; explain: Explain[] } {
  let lastBuy: number | null = null;
  for (const p of input.purchases) if (p.amount > 0 && p.at <= now && (lastBuy === null || p.at > lastBuy)) lastBuy = p.at;
  if (lastBuy !== null && now - lastBuy >= rules.lapsedDays * DAY_MS) {
    return lr('lapsed', reason('lifecycle.lapsed', { days: daysBetween(lastBuy, now), lapsedDays: rules.lapsedDays }));
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
  if (atRisk) return lr('at_risk', reason('lifecycle.atRisk', risk));
  if (now - input.firstSeenAt < rules.newDays * DAY_MS) return lr('new', reason('lifecycle.new', { days: daysBetween(input.firstSeenAt, now) }));
  return lr('active', reason('lifecycle.active', { days: daysBetween(input.lastSeenAt, now) }));
}

export function referenceEvaluate(model: TierModel, state: ViewerState, now: number) {
  const rfm = rfmValues(state.purchases, now, model.rules.lookbackDays);
  const rules = model.rules;
  const scores: Scores = { ...model.scoreRfm(rfm, now), engagement: engagementScore(state.engWeighted, now) };
  const currency = state.currency ?? 'CNY';
  let tier: Tier;
  let explain: Explain[];
  if (rules.mode === 'absolute') {
    ({ tier, explain } = computeTier({ ...state, engagement: engagementOf(state) }, now, rules.absolute));
  } else {
    // the rank by predicted 12-month value, computed only when a rule asks for it
    let top: number | null | undefined;
    const topPercent = () => {
      if (top === undefined) {
        const p = predictViewer(model.valueModel, state.purchases, now, '');
        top = p ? topPercentOf(model.valueModel, p.clv365d) : null;
      }
      return top;
    };
    const meets = (r: ScoreRule) =>
      (r.minRecency == null || (scores.recency ?? 0) >= r.minRecency) &&
      (r.minFrequency == null || (scores.frequency ?? 0) >= r.minFrequency) &&
      (r.minMonetary == null || (scores.monetary ?? 0) >= r.minMonetary) &&
      (r.minFrequencyPlusMonetary == null || (scores.frequency ?? 0) + (scores.monetary ?? 0) >= r.minFrequencyPlusMonetary) &&
      (r.minEngagement == null || scores.engagement >= r.minEngagement) &&
      (r.topPredictedPercent == null || (topPercent() ?? Infinity) <= r.topPredictedPercent) &&
      (rfm !== null || (r.minRecency == null && r.minFrequency == null && r.minMonetary == null && r.minFrequencyPlusMonetary == null));
    /** the facts, with the rule of a tier not reached (or reached) named after them */
    const facts = (needs?: 'high' | 'mid'): Explain => {
      const n = needs ? { needs: { tier: needs, rule: rules.scores[needs] } } : {};
      return rfm
        ? reason('rfm.scores', {
            recency: scores.recency!, frequency: scores.frequency!, monetary: scores.monetary!, orders: rfm.orders, spend: rfm.spend, currency,
            lookbackDays: rules.lookbackDays, sinceDays: daysBetween(rfm.lastAt, now), ...n,
          })
        : reason('tier.noPurchase', { windowDays: rules.lookbackDays, ...n });
    };
    if (meets(rules.scores.high)) {
      tier = 'high';
      explain = [facts('high')];
    } else if (meets(rules.scores.mid)) {
      tier = 'mid';
      explain = [facts(), reason('rfm.needs', { tier: 'high', rule: rules.scores.high })];
    } else {
      tier = 'potential';
      explain = [rfm ? facts('mid') : facts()];
      const engaged = engagementReason(engagementOf(state));
      if (engaged) explain.push(engaged);
    }
  }
  const rank = tier !== 'potential' ? spenderRank(model, rfm) : null;
  if (rank !== null) explain[0] = { ...explain[0]!, params: { ...explain[0]!.params, rank } } as Explain;
  if (tier === 'potential' && (state.watchMs > 0 || scores.engagement > 1)) {
    explain.push(reason('engagement.score', { score: scores.engagement }));
  }
  const life = computeLifecycle(model.valueModel ? { ...state, pAlive: pAliveOf(model.valueModel, state.purchases, now) } : state, now, rules.lifecycle);
  return {
    tier, lifecycle: life.lifecycle, explain: [...explain, ...life.explain], scores, rfm,
  };
}

function spenderRank(model: TierModel, rfm: RfmValues | null): number | null {
  if (!rfm || !(model.buyers >= model.rules.minBuyers && model.buyers > 0)) return null;
  const monetary = (model as unknown as { monetary: { countAtLeast(k: number): number } }).monetary;
  const pct = Math.max(1, Math.ceil((100 * monetary.countAtLeast(moneyKey(rfm.spend))) / model.buyers));
  return pct <= 50 ? pct : null;
}
