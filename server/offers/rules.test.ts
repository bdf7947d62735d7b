import { describe, expect, it } from 'vitest';
import {
  applyPatch, CampaignError, committedValue, DEFAULT_CAMPAIGNS, parseCampaign, type CampaignDoc,
} from './campaign.js';
import {
  armOf, cartDue, crossSellRule, decide, DEFAULT_CAP, holdoutBucket, inAudience, purchaseMatches, tierEntered, watchCrossed,
  type ViewerHistory,
} from './rules.js';
import { rate, uplift } from './uplift.js';

const doc = (over: Partial<CampaignDoc> = {}): CampaignDoc => ({
  name: 'Test',
  trigger: { type: 'manual' },
  offer: { title: 'x', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 60 },
  ...over,
});
const fresh: ViewerHistory = { inCampaign: 0, inStream: 0, lastAt: null };
const zero = { issued: 0, committed: 0 };
const NOW = 1_700_000_000_000;

function fieldOf(raw: unknown): string {
  try {
    parseCampaign(raw);
  } catch (err) {
    if (err instanceof CampaignError) return err.field;
    throw err;
  }
  return 'accepted';
}

describe('the campaign document', () => {
  it('a bad document names the field that is wrong', () => {
    expect(fieldOf(doc())).toBe('accepted');
    expect(fieldOf({ ...doc(), name: '' })).toBe('name');
    expect(fieldOf(doc({ trigger: { type: 'tier_entered' } }))).toBe('trigger.tier');
    expect(fieldOf(doc({ trigger: { type: 'watch_milestone' } }))).toBe('trigger.watchSeconds');
    expect(fieldOf(doc({ trigger: { type: 'cart_abandoned' } }))).toBe('trigger.afterSeconds');
    expect(fieldOf(doc({ trigger: { type: 'manual', watchSeconds: 60 } }))).toBe('trigger.watchSeconds');
    expect(fieldOf(doc({ trigger: { type: 'manual', skus: ['A'] } }))).toBe('trigger.skus');
    expect(fieldOf({ ...doc(), trigger: { type: 'sometimes' } })).toBe('trigger.type');
    expect(fieldOf(doc({ offer: { title: 'x', discount: { kind: 'percent', value: 120 }, ttlSeconds: 60 } }))).toBe('offer.discount.value');
    expect(fieldOf(doc({ offer: { title: 'x', discount: { kind: 'amount', value: 100 }, maxDiscount: 50, ttlSeconds: 60 } }))).toBe('offer.maxDiscount');
    expect(fieldOf(doc({ offer: { title: 'x', discount: { kind: 'percent', value: 10 }, ttlSeconds: 60 }, limits: { budget: 10_000 } }))).toBe('offer.maxDiscount');
    expect(fieldOf({ ...doc(), limits: { perViewer: 0 } })).toBe('limits.perViewer');
    expect(fieldOf({ ...doc(), holdoutPercent: 95 })).toBe('holdoutPercent');
    expect(fieldOf({ ...doc(), audience: { lifecycle: ['sleepy'] } })).toBe('audience.lifecycle.0');
    expect(fieldOf({ ...doc(), extra: 1 })).toBe('extra');
  });

  it('a patch replaces top-level parts and is checked as a whole', () => {
    const d = doc({ trigger: { type: 'watch_milestone', watchSeconds: 60 } });
    expect(applyPatch(d, { name: 'Renamed' }).name).toBe('Renamed');
    expect(applyPatch(d, { limits: { maxIssued: 5 } }).limits).toEqual({ maxIssued: 5 });
    expect(() => applyPatch(d, { trigger: { type: 'tier_entered' } })).toThrow(/trigger.tier is required/);
  });

  it('what an offer commits against the budget: the amount, or a percent discount\'s maxDiscount', () => {
    expect(committedValue({ title: 'x', discount: { kind: 'amount', value: 3000 }, ttlSeconds: 60 })).toBe(3000);
    expect(committedValue({ title: 'x', discount: { kind: 'percent', value: 15 }, maxDiscount: 5000, ttlSeconds: 60 })).toBe(5000);
    expect(committedValue({ title: 'x', discount: { kind: 'percent', value: 15 }, ttlSeconds: 60 })).toBe(0);
  });

  it('the four defaults keep the loop\'s offers and are valid documents', () => {
    expect(DEFAULT_CAMPAIGNS.map((c) => c.id)).toEqual(['default:vip', 'default:deal', 'default:first-order', 'default:win-back']);
    for (const c of DEFAULT_CAMPAIGNS) expect(parseCampaign(c.doc)).toBe(c.doc);
    const [vip, deal, first, winBack] = DEFAULT_CAMPAIGNS.map((c) => c.doc);
    expect(vip!.offer).toMatchObject({ title: 'VIP thank-you: 15% off', discount: { kind: 'percent', value: 15 }, ttlSeconds: 86_400 });
    expect(deal!.offer).toMatchObject({ title: 'Limited-time deal: ¥30 off', discount: { kind: 'amount', value: 3000 }, minSpend: 19_900, ttlSeconds: 900 });
    expect(first!.trigger).toEqual({ type: 'watch_milestone', watchSeconds: 300 });
    expect(first!.offer).toMatchObject({ discount: { kind: 'amount', value: 2000 }, minSpend: 9_900, ttlSeconds: 1800 });
    expect(winBack!.audience).toEqual({ lifecycle: ['at_risk'] });
  });
});

describe('triggers', () => {
  it('tier_entered fires on a move up into the tier, never down or sideways', () => {
    const high = { type: 'tier_entered', tier: 'high' } as const;
    const mid = { type: 'tier_entered', tier: 'mid' } as const;
    expect(tierEntered(high, 'mid', 'high')).toBe(true);
    expect(tierEntered(high, 'potential', 'high')).toBe(true);
    expect(tierEntered(mid, 'potential', 'mid')).toBe(true);
    expect(tierEntered(mid, 'high', 'mid')).toBe(false);
    expect(tierEntered(mid, 'mid', 'mid')).toBe(false);
    expect(tierEntered(high, 'potential', 'mid')).toBe(false);
    expect(tierEntered({ type: 'manual' }, 'potential', 'mid')).toBe(false);
  });

  it('watch_milestone fires once, when this stream\'s watch time crosses it', () => {
    const t = { type: 'watch_milestone', watchSeconds: 300 } as const;
    expect(watchCrossed(t, 290_000, 300_000)).toBe(true);
    expect(watchCrossed(t, 299_999, 310_000)).toBe(true);
    expect(watchCrossed(t, 300_000, 310_000)).toBe(false);
    expect(watchCrossed(t, 280_000, 290_000)).toBe(false);
    expect(watchCrossed({ type: 'manual' }, 0, 1e9)).toBe(false);
  });

  it('purchase fires for any purchase, or only for orders holding one of its SKUs', () => {
    expect(purchaseMatches({ type: 'purchase' }, [])).toBe(true);
    expect(purchaseMatches({ type: 'purchase', skus: ['TEA-01', 'CUP-02'] }, ['X', 'CUP-02'])).toBe(true);
    expect(purchaseMatches({ type: 'purchase', skus: ['TEA-01'] }, ['X'])).toBe(false);
    expect(purchaseMatches({ type: 'purchase', skus: ['TEA-01'] }, [])).toBe(false);
    expect(purchaseMatches({ type: 'manual' }, ['TEA-01'])).toBe(false);
  });

  it('cart_abandoned is due afterSeconds after the last add-to-cart', () => {
    const t = { type: 'cart_abandoned', afterSeconds: 600 } as const;
    expect(cartDue(t, NOW, NOW + 599_999)).toBe(false);
    expect(cartDue(t, NOW, NOW + 600_000)).toBe(true);
    expect(cartDue({ type: 'manual' }, NOW, NOW + 1e9)).toBe(false);
  });
});

describe('audience', () => {
  it('tiers and lifecycle both narrow; an absent list matches everyone', () => {
    expect(inAudience(undefined, { tier: 'potential' })).toBe(true);
    expect(inAudience({ tiers: ['high', 'mid'] }, { tier: 'mid' })).toBe(true);
    expect(inAudience({ tiers: ['high'] }, { tier: 'mid' })).toBe(false);
    expect(inAudience({ lifecycle: ['at_risk'] }, { tier: 'mid', lifecycle: 'at_risk' })).toBe(true);
    expect(inAudience({ lifecycle: ['at_risk'] }, { tier: 'mid', lifecycle: 'active' })).toBe(false);
    expect(inAudience({ lifecycle: ['at_risk'] }, { tier: 'mid' })).toBe(false);
    expect(inAudience({ tiers: ['mid'], lifecycle: ['at_risk'] }, { tier: 'high', lifecycle: 'at_risk' })).toBe(false);
  });
});

describe('holdout', () => {
  it('is a fixed hash of stream, campaign and viewer', () => {
    expect(holdoutBucket('s1', 'c1', 'alice')).toBeCloseTo(11.364892567507923, 12);
    expect(holdoutBucket('s1', 'c1', 'bob')).toBeCloseTo(92.36507760360837, 12);
    expect(holdoutBucket('s1', 'c2', 'alice')).toBeCloseTo(66.54666969552636, 12);
    expect(armOf('s1', 'c1', 'alice', 20)).toBe('control');
    expect(armOf('s1', 'c1', 'alice', 11)).toBe('treatment');
    expect(armOf('s1', 'c1', 'bob', 90)).toBe('treatment');
    expect(armOf('s1', 'c1', 'alice', 0)).toBe('treatment');
  });

  it('splits 1000 viewers close to the percentage (204 of 1000 at 20%)', () => {
    let control = 0;
    for (let i = 0; i < 1000; i++) if (armOf('s1', 'c1', `v${i}`, 20) === 'control') control++;
    expect(control).toBe(204);
  });
});

describe('decide: per-viewer limit, frequency cap, quota, budget, holdout', () => {
  it('issues with the value it commits', () => {
    expect(decide(doc(), zero, fresh, 'treatment', NOW)).toEqual({ kind: 'issue', value: 1000 });
  });

  it('perViewer defaults to 1 and can be raised', () => {
    const had1 = { inCampaign: 1, inStream: 1, lastAt: NOW - 600_000 };
    expect(decide(doc(), zero, had1, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'alreadyHas' });
    expect(decide(doc({ limits: { perViewer: 2 } }), zero, had1, 'treatment', NOW)).toEqual({ kind: 'issue', value: 1000 });
  });

  it('the frequency cap: one per 2 minutes, 5 per stream', () => {
    expect(DEFAULT_CAP).toEqual({ minIntervalSeconds: 120, maxPerStream: 5 });
    const recent = { inCampaign: 0, inStream: 1, lastAt: NOW - 119_999 };
    expect(decide(doc(), zero, recent, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'capped' });
    expect(decide(doc(), zero, { ...recent, lastAt: NOW - 120_000 }, 'treatment', NOW)).toEqual({ kind: 'issue', value: 1000 });
    const five = { inCampaign: 0, inStream: 5, lastAt: NOW - 3_600_000 };
    expect(decide(doc(), zero, five, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'capped' });
    // rewards for the viewer's own purchase skip the interval, not the per-stream maximum
    const reward = doc({ trigger: { type: 'tier_entered', tier: 'high' } });
    expect(decide(reward, zero, recent, 'treatment', NOW)).toEqual({ kind: 'issue', value: 1000 });
    expect(decide(reward, zero, five, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'capped' });
  });

  it('the quota and the budget', () => {
    const limited = doc({ limits: { maxIssued: 3, budget: 2500 } });
    expect(decide(limited, { issued: 2, committed: 1000 }, fresh, 'treatment', NOW)).toEqual({ kind: 'issue', value: 1000 });
    expect(decide(limited, { issued: 3, committed: 1000 }, fresh, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'quota' });
    expect(decide(limited, { issued: 2, committed: 2000 }, fresh, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'budget' });
    const pct = doc({ offer: { title: 'x', discount: { kind: 'percent', value: 20 }, maxDiscount: 800, ttlSeconds: 60 }, limits: { budget: 1600 } });
    expect(decide(pct, { issued: 1, committed: 800 }, fresh, 'treatment', NOW)).toEqual({ kind: 'issue', value: 800 });
    expect(decide(pct, { issued: 2, committed: 1600 }, fresh, 'treatment', NOW)).toEqual({ kind: 'skip', reason: 'budget' });
  });

  it('the control arm is held only when the viewer would have got the offer', () => {
    expect(decide(doc(), zero, fresh, 'control', NOW)).toEqual({ kind: 'hold' });
    expect(decide(doc(), zero, { inCampaign: 0, inStream: 5, lastAt: null }, 'control', NOW)).toEqual({ kind: 'skip', reason: 'capped' });
    expect(decide(doc({ limits: { maxIssued: 0 } }), zero, fresh, 'control', NOW)).toEqual({ kind: 'skip', reason: 'quota' });
  });
});

describe('uplift', () => {
  it('treated − control with a 95% two-proportion interval', () => {
    expect(uplift({ n: 200, conversions: 50 }, { n: 100, conversions: 15 })).toEqual({
      absolute: 0.1,
      ci95: [0.0078, 0.1922],
      n: { treated: 200, control: 100 },
      conversions: { treated: 50, control: 15 },
      enoughData: true,
    });
  });

  it('says when the sample is too small to tell', () => {
    expect(uplift({ n: 10, conversions: 3 }, { n: 5, conversions: 0 })).toMatchObject({ absolute: 0.3, ci95: [0.016, 0.584], enoughData: false });
    expect(uplift({ n: 40, conversions: 2 }, { n: 40, conversions: 10 })).toMatchObject({ absolute: -0.2, enoughData: false });
    expect(uplift({ n: 12, conversions: 3 }, { n: 0, conversions: 0 })).toEqual({
      absolute: null, ci95: null, n: { treated: 12, control: 0 }, conversions: { treated: 3, control: 0 }, enoughData: false,
    });
    expect(rate({ n: 3, conversions: 1 })).toBe(0.3333);
    expect(rate({ n: 0, conversions: 0 })).toBeNull();
  });
});

describe('cross_sell campaigns', () => {
  const offer = { title: 'x', discount: { kind: 'amount' as const, value: 100 }, ttlSeconds: 600 };
  it('take minConfidence and minLift, which no other trigger takes; the rule sets the offer\'s SKUs', () => {
    expect(parseCampaign({ name: 'c', trigger: { type: 'cross_sell', minConfidence: 0.5, minLift: 1.2 }, offer }).trigger).toEqual({ type: 'cross_sell', minConfidence: 0.5, minLift: 1.2 });
    expect(() => parseCampaign({ name: 'c', trigger: { type: 'purchase', minConfidence: 0.5 }, offer })).toThrow('trigger.minConfidence applies only to cross_sell');
    expect(() => parseCampaign({ name: 'c', trigger: { type: 'cross_sell', minConfidence: 2 }, offer })).toThrow(/trigger\.minConfidence/);
    expect(() => parseCampaign({ name: 'c', trigger: { type: 'cross_sell' }, offer: { ...offer, skus: ['CUP-02'] } })).toThrow(/offer\.skus/);
  });
});

describe('crossSellRule', () => {
  const rule = (a: string[], b: string[], confidence: number, lift = 2, orders = 10) => ({ if: a, then: b, support: 0.1, confidence, lift, orders });
  const rules = [rule(['TEA-01'], ['CUP-02'], 0.65), rule(['TEA-01'], ['POT-01'], 0.4, 3), rule(['TEA-01', 'POT-01'], ['CUP-02'], 0.9), rule(['PEN-03'], ['INK-04'], 0.5, 0.8)];
  const cs = (extra: Record<string, number> = {}) => ({ type: 'cross_sell' as const, ...extra });

  it('answers an order holding the antecedent and none of the consequent, the most confident rule first', () => {
    expect(crossSellRule(cs(), rules, ['TEA-01'])).toMatchObject({ then: ['CUP-02'], confidence: 0.65 });
    // both antecedents held: the surer rule, but its consequent must not be in the order already
    expect(crossSellRule(cs(), rules, ['TEA-01', 'POT-01'])).toMatchObject({ if: ['TEA-01', 'POT-01'], then: ['CUP-02'] });
    expect(crossSellRule(cs(), rules, ['TEA-01', 'CUP-02'])).toMatchObject({ then: ['POT-01'] });
    expect(crossSellRule(cs(), rules, ['CAKE-9'])).toBeNull();
    expect(crossSellRule(cs(), rules, [])).toBeNull();
  });

  it('holds to minConfidence and minLift (default 0.3 and 1), and to its own trigger type', () => {
    expect(crossSellRule(cs({ minConfidence: 0.7 }), rules, ['TEA-01'])).toBeNull();
    expect(crossSellRule(cs({ minLift: 2.5 }), rules, ['TEA-01'])).toMatchObject({ then: ['POT-01'] });
    // lift below 1: the items sell together less than by chance, no reason to offer
    expect(crossSellRule(cs(), rules, ['PEN-03'])).toBeNull();
    expect(crossSellRule(cs({ minLift: 0 }), rules, ['PEN-03'])).toMatchObject({ then: ['INK-04'] });
    expect(crossSellRule({ type: 'purchase' }, rules, ['TEA-01'])).toBeNull();
  });

  it('breaks ties the same way on every server', () => {
    const tied = [rule(['A'], ['C'], 0.5), rule(['A'], ['B'], 0.5)];
    expect(crossSellRule(cs(), tied, ['A'])!.then).toEqual(['B']);
    expect(crossSellRule(cs(), [...tied].reverse(), ['A'])!.then).toEqual(['B']);
  });
});
