/**
 * One viewer's assessment by the tier model: the tier, the lifecycle and the scores, decided as
 * plain numbers with no allocation but this object, and the reasons made from those numbers only
 * when someone reads them (a host, an API call, an offer, the write of the viewer's row). The
 * reasons read later are exactly those the model had when it decided: every number they name is
 * copied here at the time (server/tiering/channel.ts fills it).
 */
import type { Lifecycle, Tier } from '../realtime/events.js';
import { explainAll, reason, type Explain } from './explain.js';
import { absoluteExplain, sameAbsolute, type AbsoluteFacts } from './model.js';
import { LifecycleFacts, lifecycleReason, sameLifecycle } from './lifecycle.js';
import { daysBetween, type RfmValues, type Scores } from './rfm.js';
import type { TierRulesDoc } from './rules.js';

export interface Evaluation {
  tier: Tier;
  lifecycle: Lifecycle;
  /** the tier's reasons, then the lifecycle's, as codes and parameters (server/tiering/explain.ts) */
  readonly explain: Explain[];
  /** the same in English, made when read */
  readonly reasons: string[];
  readonly scores: Scores;
  /** the RFM values this viewer now counts for in the channel's distribution (null: not a buyer) */
  readonly rfm: RfmValues | null;
}

/**
 * One object per assessment: it is the lifecycle's facts (it extends LifecycleFacts: lifecycle,
 * days, the causes of at_risk) and holds the absolute rules' facts as its own fields.
 */
export class Assessment extends LifecycleFacts implements Evaluation, AbsoluteFacts {
  tier: Tier = 'potential';
  /** RFM scores 1–5 (0: not a buyer, no scores) and the engagement score 1–5 */
  recency = 0;
  frequency = 0;
  monetary = 0;
  engagement = 1;
  /** RFM values within the lookback (orders 0: not a buyer) */
  orders = 0;
  spend = 0;
  lastAt = 0;
  /** top N% of the channel's spenders, named after the tier (0: not named) */
  rank = 0;
  /** the absolute rules' windows (mode 'absolute'): orders and net spend in the high and the mid window */
  hiOrders = 0;
  hiSpend = 0;
  midOrders = 0;
  midSpend = 0;
  /** what the viewer did, as the reasons name it */
  watchMinutes = 0;
  watched = false;
  comments = 0;
  likes = 0;
  productViews = 0;
  addToCarts = 0;
  private made: Explain[] | null = null;
  private scoresMade: Scores | null = null;

  constructor(
    readonly rules: TierRulesDoc,
    readonly currency: string,
    readonly now: number,
  ) {
    super();
  }

  get scores(): Scores {
    return (this.scoresMade ??= {
      recency: this.orders ? this.recency : null,
      frequency: this.orders ? this.frequency : null,
      monetary: this.orders ? this.monetary : null,
      engagement: this.engagement,
    });
  }

  get rfm(): RfmValues | null {
    return this.orders ? { orders: this.orders, spend: this.spend, lastAt: this.lastAt } : null;
  }

  get explain(): Explain[] {
    return (this.made ??= this.makeExplain());
  }

  get reasons(): string[] {
    return explainAll(this.explain);
  }

  /** whether `other` gives the same tier, lifecycle and reasons (compares the numbers: no reasons made) */
  sameAs(other: Assessment): boolean {
    if (this.tier !== other.tier || this.rules !== other.rules || this.currency !== other.currency || this.rank !== other.rank) return false;
    if (!sameLifecycle(this, other)) return false;
    if (this.tier === 'potential') {
      if (this.watchMinutes !== other.watchMinutes || this.comments !== other.comments || this.likes !== other.likes) return false;
      if (this.productViews !== other.productViews || this.addToCarts !== other.addToCarts) return false;
      if ((this.watched || this.engagement > 1) !== (other.watched || other.engagement > 1)) return false;
      if ((this.watched || this.engagement > 1) && this.engagement !== other.engagement) return false;
    }
    if (this.rules.mode === 'absolute') return sameAbsolute(this, other);
    if (!this.orders || !other.orders) return !this.orders && !other.orders;
    return (
      this.recency === other.recency && this.frequency === other.frequency && this.monetary === other.monetary &&
      this.orders === other.orders && this.spend === other.spend && daysBetween(this.lastAt, this.now) === daysBetween(other.lastAt, other.now)
    );
  }

  private engagementActivity(): Explain | null {
    if (this.watchMinutes <= 0 && this.comments <= 0 && this.likes <= 0 && this.productViews <= 0 && this.addToCarts <= 0) return null;
    return reason('engagement.activity', { watchMinutes: this.watchMinutes, comments: this.comments, likes: this.likes, productViews: this.productViews, addToCarts: this.addToCarts });
  }

  private makeExplain(): Explain[] {
    const rules = this.rules;
    const tier = this.tier;
    let explain: Explain[];
    if (rules.mode === 'absolute') {
      explain = absoluteExplain(this, rules.absolute, this.currency, tier === 'potential' ? this.engagementActivity() : null);
    } else {
      /** the facts, with the rule of a tier not reached (or reached) named after them */
      const facts = (needs?: 'high' | 'mid'): Explain => {
        const n = needs ? { needs: { tier: needs, rule: rules.scores[needs] } } : {};
        return this.orders
          ? reason('rfm.scores', {
              recency: this.recency, frequency: this.frequency, monetary: this.monetary, orders: this.orders, spend: this.spend, currency: this.currency,
              lookbackDays: rules.lookbackDays, sinceDays: daysBetween(this.lastAt, this.now), ...n,
            })
          : reason('tier.noPurchase', { windowDays: rules.lookbackDays, ...n });
      };
      if (tier === 'high') explain = [facts('high')];
      else if (tier === 'mid') explain = [facts(), reason('rfm.needs', { tier: 'high', rule: rules.scores.high })];
      else {
        explain = [this.orders ? facts('mid') : facts()];
        const engaged = this.engagementActivity();
        if (engaged) explain.push(engaged);
      }
    }
    if (this.rank) explain[0] = { ...explain[0]!, params: { ...explain[0]!.params, rank: this.rank } } as Explain;
    if (tier === 'potential' && (this.watched || this.engagement > 1)) explain.push(reason('engagement.score', { score: this.engagement }));
    explain.push(lifecycleReason(this));
    return explain;
  }
}
