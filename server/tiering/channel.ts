/**
 * The tier model of one channel: its rules, the distribution of its buyers' RFM values (for the
 * quintile cut points) and the evaluation of one viewer. Pure: no I/O, `now` is always passed in.
 * This is the API the engine drives, and the one the benchmark drives directly:
 *
 *   const model = new TierModel(rules);
 *   model.register(viewerId, rfmValues(...));   // bulk load of the channel's buyers (optional)
 *   const r = model.assess(viewerId, state, now); // after any change to that viewer: O(distinct keys)
 */
import type { Lifecycle, Tier } from '../realtime/events.js';
import { computeTier, engagementReason } from './model.js';
import { explainAll, reason, type Explain } from './explain.js';
import { pAliveOf, predictViewer, topPercentOf, type ChannelModel } from '../predict/channel-model.js';
import { KeyHistogram, moneyKey, moneyOfKey } from './histogram.js';
import { ABSOLUTE_CUTS, QUINTILES, daysBetween, rfmValues, scoreRecency, scoreUp, type Cuts, type RfmValues, type Scores } from './rfm.js';
import { engagementScore } from './engagement.js';
import { computeLifecycle } from './lifecycle.js';
import { DEFAULT_TIER_RULES, type ScoreRule, type TierRulesDoc } from './rules.js';
import type { ViewerState } from './state.js';

const DAY_MS = 86_400_000;

export interface Evaluation {
  tier: Tier;
  lifecycle: Lifecycle;
  /** the tier's reasons, then the lifecycle's, as codes and parameters (server/tiering/explain.ts) */
  explain: Explain[];
  /** the same in English, made when read */
  readonly reasons: string[];
  scores: Scores;
  /** the RFM values this viewer now counts for in the channel's distribution (null: not a buyer) */
  rfm: RfmValues | null;
}

interface KeyCuts {
  recency: number[];
  frequency: number[];
  monetary: number[];
}

export class TierModel {
  private doc: TierRulesDoc;
  /** keys: −(UTC day number of the last purchase), so ascending keys are ascending days since */
  private readonly recency = new KeyHistogram();
  private readonly frequency = new KeyHistogram();
  /** keys: moneyKey(spend) */
  private readonly monetary = new KeyHistogram();
  private keyCuts: KeyCuts | null = null;
  /** viewer id → packed keys of what the viewer contributes now */
  private readonly registered = new Map<string, number>();

  /** the channel's predictive model (server/predict/channel-model.ts): a buyer unlikely to be active is at_risk */
  private value: ChannelModel | null = null;

  constructor(rules: TierRulesDoc = DEFAULT_TIER_RULES) {
    this.doc = rules;
  }

  get valueModel(): ChannelModel | null {
    return this.value;
  }

  /** Replaces the predictive model. Callers re-assess viewers to apply it. */
  setValueModel(model: ChannelModel | null): void {
    this.value = model;
  }

  get rules(): TierRulesDoc {
    return this.doc;
  }

  /** Replaces the rules. Registered values stay; callers re-assess viewers to apply the new rules. */
  setRules(rules: TierRulesDoc): void {
    this.doc = rules;
  }

  /** buyers counted in the distribution */
  get buyers(): number {
    return this.frequency.total;
  }

  /**
   * Sets one buyer's contribution to the distribution (null: not a buyer). The model remembers
   * what each viewer contributed as one packed number (day, orders, money key), so a profile that
   * was evicted from a cache and loaded again replaces its old values exactly.
   */
  register(viewerId: string, rfm: RfmValues | null): void {
    const prev = this.registered.get(viewerId);
    const next = rfm ? pack(rfm) : undefined;
    if (prev === next) return;
    if (prev !== undefined) {
      const k = unpack(prev);
      this.recency.remove(k.recency);
      this.frequency.remove(k.frequency);
      this.monetary.remove(k.monetary);
      this.registered.delete(viewerId);
    }
    if (next !== undefined) {
      const k = unpack(next);
      this.recency.add(k.recency);
      this.frequency.add(k.frequency);
      this.monetary.add(k.monetary);
      this.registered.set(viewerId, next);
    }
    this.keyCuts = null;
  }

  /** Drops a viewer from the distribution (erasure). */
  forget(viewerId: string): void {
    this.register(viewerId, null);
  }

  /** the viewers counted in the distribution (a copy: callers may register or forget while walking it) */
  viewerIds(): string[] {
    return [...this.registered.keys()];
  }

  /** what a viewer counts for now, as the histogram keys it (UTC day of the last purchase, orders, money key); null: not counted */
  entry(viewerId: string): { day: number; orders: number; moneyKey: number } | null {
    const x = this.registered.get(viewerId);
    if (x === undefined) return null;
    const k = unpack(x);
    return { day: -k.recency, orders: k.frequency, moneyKey: k.monetary };
  }

  private quantileCuts(): KeyCuts {
    this.keyCuts ??= {
      recency: this.recency.quantiles(QUINTILES),
      frequency: this.frequency.quantiles(QUINTILES),
      monetary: this.monetary.quantiles(QUINTILES),
    };
    return this.keyCuts;
  }

  private usesQuantiles(): boolean {
    return this.buyers >= this.doc.minBuyers && this.buyers > 0;
  }

  /** The cut points in force: quintiles of the channel's buyers, or the fixed ones below `minBuyers`. */
  cuts(now: number): Cuts {
    if (!this.usesQuantiles()) return { ...ABSOLUTE_CUTS, buyers: this.buyers };
    const k = this.quantileCuts();
    const today = Math.floor(now / DAY_MS);
    return {
      source: 'quantiles',
      buyers: this.buyers,
      recency: k.recency.map((key) => today + key),
      frequency: [...k.frequency],
      monetary: k.monetary.map(moneyOfKey),
    };
  }

  /** RFM scores of these values under the cut points in force (null values: no scores). */
  scoreRfm(rfm: RfmValues | null, now: number): Pick<Scores, 'recency' | 'frequency' | 'monetary'> {
    if (!rfm) return { recency: null, frequency: null, monetary: null };
    const days = daysBetween(rfm.lastAt, now);
    if (!this.usesQuantiles()) {
      return {
        recency: scoreRecency(days, ABSOLUTE_CUTS.recency),
        frequency: scoreUp(rfm.orders, ABSOLUTE_CUTS.frequency),
        monetary: scoreUp(rfm.spend, ABSOLUTE_CUTS.monetary),
      };
    }
    const k = this.quantileCuts();
    return {
      // compared as keys: the same day numbers the histogram holds
      recency: scoreRecency(-Math.floor(rfm.lastAt / DAY_MS), k.recency),
      frequency: scoreUp(rfm.orders, k.frequency),
      monetary: scoreUp(moneyKey(rfm.spend), k.monetary),
    };
  }

  /** N of "top N% of spenders" when the channel has enough buyers and this one is in the top half */
  private spenderRank(rfm: RfmValues | null): number | null {
    if (!rfm || !this.usesQuantiles()) return null;
    const pct = Math.max(1, Math.ceil((100 * this.monetary.countAtLeast(moneyKey(rfm.spend))) / this.buyers));
    return pct <= 50 ? pct : null;
  }

  /** Registers the viewer's current RFM values (replacing what they contributed before) and evaluates them. */
  assess(viewerId: string, state: ViewerState, now: number): Evaluation {
    const rfm = rfmValues(state.purchases, now, this.doc.lookbackDays);
    this.register(viewerId, rfm);
    return this.evaluate(state, now, rfm);
  }

  /** Tier, lifecycle, scores and reasons of one viewer under the current distribution. */
  evaluate(state: ViewerState, now: number, rfm = rfmValues(state.purchases, now, this.doc.lookbackDays)): Evaluation {
    const rules = this.doc;
    const scores: Scores = { ...this.scoreRfm(rfm, now), engagement: engagementScore(state.engWeighted, now) };
    const currency = state.currency ?? 'CNY';
    let tier: Tier;
    let explain: Explain[];
    if (rules.mode === 'absolute') {
      ({ tier, explain } = computeTier(state, now, rules.absolute));
    } else {
      // the rank by predicted 12-month value, computed only when a rule asks for it
      let top: number | null | undefined;
      const topPercent = () => {
        if (top === undefined) {
          const p = predictViewer(this.value, state.purchases, now, '');
          top = p ? topPercentOf(this.value, p.clv365d) : null;
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
        const engaged = engagementReason(state.engagement);
        if (engaged) explain.push(engaged);
      }
    }
    const rank = tier !== 'potential' ? this.spenderRank(rfm) : null;
    if (rank !== null) explain[0] = { ...explain[0]!, params: { ...explain[0]!.params, rank } } as Explain;
    if (tier === 'potential' && (state.engagement.watchMs > 0 || scores.engagement > 1)) {
      explain.push(reason('engagement.score', { score: scores.engagement }));
    }
    const life = computeLifecycle(this.value ? { ...state, pAlive: pAliveOf(this.value, state.purchases, now) } : state, now, rules.lifecycle);
    return {
      tier, lifecycle: life.lifecycle, explain: [...explain, ...life.explain], scores, rfm,
      get reasons() {
        return explainAll(this.explain);
      },
    };
  }
}


/** packed keys: monetary key (13 bits) + 2^13 · orders (16 bits, capped) + 2^29 · day number (≤ 2^24) */
const M_BITS = 2 ** 13;
const F_BITS = 2 ** 16;
function pack(v: RfmValues): number {
  const day = Math.max(0, Math.floor(v.lastAt / DAY_MS));
  return Math.min(moneyKey(v.spend), M_BITS - 1) + M_BITS * Math.min(v.orders, F_BITS - 1) + M_BITS * F_BITS * day;
}
function unpack(x: number): { recency: number; frequency: number; monetary: number } {
  const monetary = x % M_BITS;
  const rest = (x - monetary) / M_BITS;
  const frequency = rest % F_BITS;
  const day = (rest - frequency) / F_BITS;
  return { recency: -day, frequency, monetary };
}
