/**
 * A channel's tier rules as a document: the absolute rules of the loop issue (the default), or
 * score-based rules over RFM and engagement scores, plus the lifecycle thresholds. Validated at the
 * edge (routes/channels.ts, TypeBox); the model trusts what it gets.
 */
import { DEFAULT_RULES, type TierRules } from './model.js';

/** A condition on scores (1–5); every field present must hold. A viewer with no purchase in the lookback has no RFM scores and meets no RFM condition. */
export interface ScoreRule {
  minRecency?: number;
  minFrequency?: number;
  minMonetary?: number;
  /** F + M, 2–10 */
  minFrequencyPlusMonetary?: number;
  minEngagement?: number;
  /** among the top N% (1–100) of the channel's buyers by predicted 12-month value (the channel's model) */
  topPredictedPercent?: number;
}

export interface LifecycleRules {
  /** `new`: first seen within this many days */
  newDays: number;
  /** `at_risk`: no visit for this many days */
  atRiskDays: number;
  /** `at_risk`: this many abandoned checkouts in a row (a checkout with no verified purchase within an hour) */
  abandonedCheckouts: number;
  /** `at_risk`: the last this-many expired offers were all ignored (no click, no redemption) */
  ignoredOffers: number;
  /** `lapsed`: bought before, but no verified purchase for this many days */
  lapsedDays: number;
  /** `at_risk`: a buyer whose chance of still being active (the channel's predictive model) is below this; 0: never (default 0.5) */
  atRiskPAlive?: number;
}

export interface TierRulesDoc {
  /** `absolute`: the thresholds in `absolute`; `scores`: the conditions in `scores` */
  mode: 'absolute' | 'scores';
  absolute: TierRules;
  scores: { high: ScoreRule; mid: ScoreRule };
  /** window (days) of the frequency and monetary scores */
  lookbackDays: number;
  /** below this many buyers in the channel, RFM scores use fixed cut points instead of quintiles */
  minBuyers: number;
  lifecycle: LifecycleRules;
}

export const DEFAULT_LIFECYCLE: LifecycleRules = { newDays: 7, atRiskDays: 30, abandonedCheckouts: 2, ignoredOffers: 3, lapsedDays: 180, atRiskPAlive: 0.5 };
/** when a stored rules document predates it */
export const DEFAULT_AT_RISK_P_ALIVE = 0.5;

export const DEFAULT_TIER_RULES: TierRulesDoc = {
  mode: 'absolute',
  absolute: DEFAULT_RULES,
  scores: { high: { minRecency: 4, minFrequencyPlusMonetary: 8 }, mid: { minRecency: 2 } },
  lookbackDays: 365,
  minBuyers: 50,
  lifecycle: DEFAULT_LIFECYCLE,
};

/** The default document with `absolute` replaced (the engine's constructor takes plain TierRules). */
export function rulesDoc(absolute: TierRules = DEFAULT_RULES): TierRulesDoc {
  return { ...DEFAULT_TIER_RULES, absolute };
}
