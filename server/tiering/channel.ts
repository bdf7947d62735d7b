/**
 * The tier model of one channel: its rules, the distribution of its buyers' RFM values (for the
 * quintile cut points) and the evaluation of one viewer. Pure: no I/O, `now` is always passed in.
 * This is the API the engine drives, and the one the benchmark drives directly:
 *
 *   const model = new TierModel(rules);
 *   model.register(viewerId, rfmValues(...));   // bulk load of the channel's buyers (optional)
 *   const r = model.assess(viewerId, state, now); // after any change to that viewer: O(log key range)
 *
 * An assessment decides in plain numbers and allocates only its result (server/tiering/assessment.ts):
 * its reasons are made when read, and `r.sameAs(previous)` says whether they changed without making them.
 */
import { absoluteFacts } from './model.js';
import { pAliveOf, predictViewer, topPercentOf, type ChannelModel } from '../predict/channel-model.js';
import { KeyHistogram, moneyKey, moneyOfKey } from './histogram.js';
import { ABSOLUTE_CUTS, QUINTILES, daysBetween, scoreRecency, scoreUp, type Cuts, type RfmValues, type Scores } from './rfm.js';
import { engagementWeight, scoreOfPoints } from './engagement.js';
import { lifecycleFacts } from './lifecycle.js';
import { DEFAULT_TIER_RULES, type ScoreRule, type TierRulesDoc } from './rules.js';
import { Assessment } from './assessment.js';
import type { ViewerState } from './state.js';

export { Assessment, type Evaluation } from './assessment.js';

const DAY_MS = 86_400_000;

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
    this.registerKey(viewerId, rfm ? pack(rfm.lastAt, rfm.orders, rfm.spend) : undefined);
  }

  private registerKey(viewerId: string, next: number | undefined): void {
    const prev = this.registered.get(viewerId);
    if (prev === next) return;
    if (prev !== undefined) {
      const k = unpack(prev);
      this.recency.remove(k.recency);
      this.frequency.remove(k.frequency);
      this.monetary.remove(k.monetary);
      if (next === undefined) this.registered.delete(viewerId);
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
    const a = new Assessment(this.doc, 'CNY', now);
    a.orders = rfm.orders;
    a.spend = rfm.spend;
    a.lastAt = rfm.lastAt;
    this.score(a);
    return { recency: a.recency, frequency: a.frequency, monetary: a.monetary };
  }

  /** the RFM scores of `a`'s values under the cut points in force */
  private score(a: Assessment): void {
    if (!a.orders) {
      a.recency = a.frequency = a.monetary = 0;
    } else if (!this.usesQuantiles()) {
      a.recency = scoreRecency(daysBetween(a.lastAt, a.now), ABSOLUTE_CUTS.recency);
      a.frequency = scoreUp(a.orders, ABSOLUTE_CUTS.frequency);
      a.monetary = scoreUp(a.spend, ABSOLUTE_CUTS.monetary);
    } else {
      const k = this.quantileCuts();
      // compared as keys: the same day numbers the histogram holds
      a.recency = scoreRecency(-Math.floor(a.lastAt / DAY_MS), k.recency);
      a.frequency = scoreUp(a.orders, k.frequency);
      a.monetary = scoreUp(moneyKey(a.spend), k.monetary);
    }
  }

  /** N of "top N% of spenders" when the channel has enough buyers and this one is in the top half (0: not named) */
  private spenderRank(spend: number): number {
    if (!this.usesQuantiles()) return 0;
    const pct = Math.max(1, Math.ceil((100 * this.monetary.countAtLeast(moneyKey(spend))) / this.buyers));
    return pct <= 50 ? pct : 0;
  }

  /** the engagement score at `now` (the weight of `now` kept for the next call at the same time) */
  private engagementScore(weighted: number, now: number): number {
    if (now !== this.weightAt) {
      this.weightAt = now;
      this.weightNow = engagementWeight(now);
    }
    return scoreOfPoints(weighted / this.weightNow);
  }
  private weightAt = NaN;
  private weightNow = 1;

  /** Registers the viewer's current RFM values (replacing what they contributed before) and evaluates them. */
  assess(viewerId: string, state: ViewerState, now: number): Assessment {
    const a = this.begin(state, now);
    this.registerKey(viewerId, a.orders ? pack(a.lastAt, a.orders, a.spend) : undefined);
    this.decide(a, state);
    return a;
  }

  /** Tier, lifecycle, scores and reasons of one viewer under the current distribution. */
  evaluate(state: ViewerState, now: number): Assessment {
    const a = this.begin(state, now);
    this.decide(a, state);
    return a;
  }

  /** a new assessment with the viewer's RFM values within the lookback */
  private begin(state: ViewerState, now: number): Assessment {
    const a = new Assessment(this.doc, state.currency ?? 'CNY', now);
    const since = now - this.doc.lookbackDays * DAY_MS;
    let orders = 0;
    let spend = 0;
    let lastAt = -Infinity;
    for (const p of state.purchases) {
      if (p.amount <= 0 || p.at > now || p.at < since) continue;
      orders++;
      spend += p.amount;
      if (p.at > lastAt) lastAt = p.at;
    }
    a.orders = orders;
    a.spend = spend;
    a.lastAt = orders ? lastAt : 0;
    return a;
  }

  /** decides tier, scores and lifecycle into `a`, and copies the numbers the reasons will name */
  private decide(a: Assessment, state: ViewerState): void {
    const rules = this.doc;
    const now = a.now;
    this.score(a);
    a.engagement = this.engagementScore(state.engWeighted, now);
    if (rules.mode === 'absolute') {
      absoluteFacts(a, state.purchases, now, rules.absolute);
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
      const buyer = a.orders > 0;
      const meets = (r: ScoreRule) =>
        (r.minRecency == null || a.recency >= r.minRecency) &&
        (r.minFrequency == null || a.frequency >= r.minFrequency) &&
        (r.minMonetary == null || a.monetary >= r.minMonetary) &&
        (r.minFrequencyPlusMonetary == null || a.frequency + a.monetary >= r.minFrequencyPlusMonetary) &&
        (r.minEngagement == null || a.engagement >= r.minEngagement) &&
        (r.topPredictedPercent == null || (topPercent() ?? Infinity) <= r.topPredictedPercent) &&
        (buyer || (r.minRecency == null && r.minFrequency == null && r.minMonetary == null && r.minFrequencyPlusMonetary == null));
      a.tier = meets(rules.scores.high) ? 'high' : meets(rules.scores.mid) ? 'mid' : 'potential';
    }
    a.rank = a.tier !== 'potential' && a.orders ? this.spenderRank(a.spend) : 0;
    a.watchMinutes = Math.floor(state.watchMs / 60_000);
    a.watched = state.watchMs > 0;
    a.comments = state.comments;
    a.likes = state.likes;
    a.productViews = state.productViews;
    a.addToCarts = state.addToCarts;
    lifecycleFacts(a, state, now, rules.lifecycle, this.value ? pAliveOf(this.value, state.purchases, now) : undefined);
  }
}


/** packed keys: monetary key (13 bits) + 2^13 · orders (16 bits, capped) + 2^29 · day number (≤ 2^24) */
const M_BITS = 2 ** 13;
const F_BITS = 2 ** 16;
function pack(lastAt: number, orders: number, spend: number): number {
  const day = Math.max(0, Math.floor(lastAt / DAY_MS));
  return Math.min(moneyKey(spend), M_BITS - 1) + M_BITS * Math.min(orders, F_BITS - 1) + M_BITS * F_BITS * day;
}
function unpack(x: number): { recency: number; frequency: number; monetary: number } {
  const monetary = x % M_BITS;
  const rest = (x - monetary) / M_BITS;
  const frequency = rest % F_BITS;
  const day = (rest - frequency) / F_BITS;
  return { recency: -day, frequency, monetary };
}
