import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TierModel } from './channel.js';
import { DEFAULT_TIER_RULES, type TierRulesDoc } from './rules.js';
import { KeyHistogram, moneyKey, moneyOfKey } from './histogram.js';
import { computeLifecycle, abandonedInRow, ignoredInRow } from './lifecycle.js';
import { engagementScore, engagementWeight, engagementPoints } from './engagement.js';
import { addActivity, addCheckout, addOffer, addPurchase, emptyState, noActivity, offerEngaged, refundPurchase, seen, type ViewerState } from './state.js';
import { runs } from '../../test/helpers/property.js';
import { referenceEvaluate } from '../../test/helpers/tier-reference.js';
import { sameExplain } from './explain.js';


const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12);
const SCORES: TierRulesDoc = { ...DEFAULT_TIER_RULES, mode: 'scores' };

function viewer(purchases: [amount: number, daysAgo: number][], init: Partial<ViewerState> = {}): ViewerState {
  const s = emptyState(NOW - 20 * DAY);
  s.lastSeenAt = NOW;
  purchases.forEach(([amount, daysAgo], i) => addPurchase(s, { orderId: `o${i}`, amount, at: NOW - daysAgo * DAY }));
  return Object.assign(s, init);
}

describe('KeyHistogram', () => {
  it('nearest-rank quantiles, with removal', () => {
    const h = new KeyHistogram();
    for (const k of [5, 1, 4, 2, 3, 3, 9, 7, 8, 6]) h.add(k);
    expect(h.quantiles([0.2, 0.4, 0.6, 0.8])).toEqual([2, 3, 5, 7]);
    h.remove(9);
    h.remove(3);
    expect(h.total).toBe(8);
    // keys 1…8: ranks ceil(1.6) = 2, ceil(3.2) = 4, ceil(4.8) = 5, ceil(6.4) = 7
    expect(h.quantiles([0.2, 0.4, 0.6, 0.8])).toEqual([2, 4, 5, 7]);
    expect(h.countAtLeast(6)).toBe(3);
    expect(() => h.remove(42)).toThrow(/not there/);
  });

  it('answers as a plain sorted walk would, under random adds and removals over a growing range', () => {
    // the walk the Fenwick tree replaced: nearest rank over the sorted keys
    const walk = (counts: Map<number, number>, ps: number[]) => {
      const n = [...counts.values()].reduce((a, b) => a + b, 0);
      if (!n) return [];
      const keys = [...counts.keys()].filter((k) => counts.get(k)! > 0).sort((a, b) => a - b);
      return ps.map((p) => {
        const target = Math.max(1, Math.ceil(p * n - 1e-9));
        let cum = 0;
        for (const k of keys) if ((cum += counts.get(k)!) >= target) return k;
        return keys.at(-1)!;
      });
    };
    let seed = 7;
    const rand = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % m);
    const h = new KeyHistogram();
    const counts = new Map<number, number>();
    const ps = [0.2, 0.4, 0.6, 0.8];
    for (let step = 0; step < 5_000; step++) {
      const held = [...counts].filter(([, c]) => c > 0);
      if (held.length && rand(3) === 0) {
        const [k] = held[rand(held.length)]!;
        h.remove(k);
        counts.set(k, counts.get(k)! - 1);
      } else {
        // keys drift both ways (recency keys are negative day numbers), now and then far out
        const k = rand(10) === 0 ? rand(40_000) - 20_000 : rand(400) - 200 - (step >> 4);
        h.add(k);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      if (step % 97 === 0) {
        expect(h.quantiles(ps)).toEqual(walk(counts, ps));
        const probe = rand(600) - 400;
        expect(h.countAtLeast(probe)).toBe([...counts].reduce((a, [k, c]) => a + (k >= probe ? c : 0), 0));
        expect(h.distinctKeys).toBe([...counts.values()].filter((c) => c > 0).length);
      }
    }
  });

  it('money keys are 1% wide', () => {
    expect(moneyKey(10_000)).toBe(926);
    expect(moneyOfKey(926)).toBeGreaterThanOrEqual(10_000);
    expect(moneyOfKey(926)).toBeLessThan(10_100);
    expect(moneyKey(10_000)).not.toBe(moneyKey(10_150));
  });

  it('stays small: a million buyers with spread-out spend use about a thousand keys', () => {
    const h = new KeyHistogram();
    for (let i = 0; i < 1_000_000; i += 1) h.add(moneyKey(100 + ((i * 7919) % 50_000_000)));
    expect(h.total).toBe(1_000_000);
    expect(h.distinctKeys).toBeLessThan(1_200);
  });
});

describe('TierModel: scores and cut points', () => {
  it('below 50 buyers the fixed cut points apply; from 50 the quintiles', () => {
    const m = new TierModel(SCORES);
    for (let i = 0; i < 49; i++) m.register(`b${i}`, { orders: 1 + (i % 5), spend: 1000 * (i + 1), lastAt: NOW - i * DAY });
    expect(m.cuts(NOW)).toEqual({ source: 'absolute', buyers: 49, recency: [7, 30, 90, 180], frequency: [1, 2, 3, 5], monetary: [10_000, 30_000, 100_000, 300_000] });
    m.register('b49', { orders: 5, spend: 50_000, lastAt: NOW - 49 * DAY });
    const c = m.cuts(NOW);
    expect(c.source).toBe('quantiles');
    expect(c.buyers).toBe(50);
    expect(c.recency).toEqual([9, 19, 29, 39]); // days 0..49: the 10th, 20th, 30th and 40th smallest
    expect(c.frequency).toEqual([1, 2, 3, 4]);
    // spend ¥10 … ¥500 in ¥10 steps: ¥100, ¥200, ¥300, ¥400 within 1%
    expect(c.monetary.map((x) => Math.round(x / 1000))).toEqual([10, 20, 30, 40]);
    // the same buyer registered again replaces their entry
    m.register('b49', { orders: 1, spend: 1000, lastAt: NOW });
    expect(m.buyers).toBe(50);
    m.forget('b49');
    expect(m.buyers).toBe(49);
  });

  it('scores a viewer with the fixed cut points, and names the numbers', () => {
    const m = new TierModel(SCORES);
    // ¥1,797 is above ¥1,000 but not ¥3,000: M 4, and F 3 + M 4 = 7 is short of high
    const short = m.assess('al', viewer([[80_000, 3], [60_000, 20], [39_700, 40]]), NOW);
    expect(short).toMatchObject({ tier: 'mid', scores: { recency: 5, frequency: 3, monetary: 4, engagement: 1 } });
    const r = m.assess('ann', viewer([[150_000, 3], [100_000, 20], [79_700, 40]]), NOW);
    expect(r.scores).toEqual({ recency: 5, frequency: 3, monetary: 5, engagement: 1 });
    expect(r.tier).toBe('high');
    expect(r.reasons[0]).toBe('R 5 · F 3 · M 5: 3 verified orders, ¥3,297 in 365 days, last 3 days ago (high needs R≥4 and F+M≥8)');
    const mid = m.assess('bob', viewer([[9_900, 40]]), NOW);
    expect(mid).toMatchObject({ tier: 'mid', scores: { recency: 3, frequency: 1, monetary: 1 } });
    expect(mid.reasons.slice(0, 2)).toEqual(['R 3 · F 1 · M 1: 1 verified order, ¥99 in 365 days, last 40 days ago', 'high needs R≥4 and F+M≥8']);
    const none = m.assess('cat', viewer([]), NOW);
    expect(none).toMatchObject({ tier: 'potential', scores: { recency: null, frequency: null, monetary: null } });
    expect(none.reasons[0]).toBe('no verified purchase in 365 days');
  });

  it('top N% of spenders once the channel has enough buyers', () => {
    const m = new TierModel(SCORES);
    for (let i = 0; i < 99; i++) m.register(`b${i}`, { orders: 1, spend: 1000 + i, lastAt: NOW - 100 * DAY });
    const r = m.assess('whale', viewer([[60_000, 1], [60_000, 2], [59_700, 3]]), NOW);
    expect(r.tier).toBe('high');
    expect(r.reasons[0]).toMatch(/ — top 1% of spenders$/);
    // the default (absolute) rules keep their texts and gain the rank
    const abs = new TierModel(DEFAULT_TIER_RULES);
    for (let i = 0; i < 99; i++) abs.register(`b${i}`, { orders: 1, spend: 1000 + i, lastAt: NOW - 100 * DAY });
    expect(abs.assess('whale', viewer([[60_000, 1], [60_000, 2], [59_700, 3]]), NOW).reasons[0]).toBe(
      '3 verified orders, ¥1,797 in 90 days (high needs 2+ orders and ¥1,000+) — top 1% of spenders',
    );
  });

  it('engagement separates the chatty watcher from the drive-by visitor', () => {
    const m = new TierModel(DEFAULT_TIER_RULES);
    const fan = viewer([]);
    // 30 minutes + 12 comments = 54 points a day ago: 54 · 2^(−1/14) ≈ 51.4 ≥ 50
    addActivity(fan, { ...noActivity(), watchMs: 30 * 60_000, comments: 12 }, NOW - DAY);
    const passerby = viewer([]);
    addActivity(passerby, { ...noActivity(), watchMs: 40_000 }, NOW);
    const a = m.assess('fan', fan, NOW);
    const b = m.assess('passerby', passerby, NOW);
    expect(a.scores.engagement).toBe(5);
    expect(a.reasons).toContain('engagement 5/5: watches and takes part but has not bought, worth a first-order offer');
    expect(b.scores.engagement).toBe(1);
    expect(b.reasons).toContain('engagement 1/5: a drive-by visit so far');
  });

  it('recent activity weighs more: the same activity 28 days ago is worth a quarter', () => {
    const pts = engagementPoints({ watchMs: 0, comments: 10, likeEvents: 0, productViews: 0, addToCarts: 0 });
    expect(pts).toBe(20);
    expect(engagementScore(pts * engagementWeight(NOW), NOW)).toBe(4); // 20 points
    expect(engagementScore(pts * engagementWeight(NOW - 28 * DAY), NOW)).toBe(2); // 5 points
  });

  it('score rules can ask for engagement', () => {
    const m = new TierModel({ ...SCORES, scores: { high: { minRecency: 4, minFrequencyPlusMonetary: 8 }, mid: { minEngagement: 4 } } });
    const fan = viewer([]);
    addActivity(fan, { ...noActivity(), comments: 10 }, NOW);
    expect(m.assess('fan', fan, NOW).tier).toBe('mid');
  });

  it('a refund lowers spend and can move a viewer down', () => {
    const m = new TierModel(DEFAULT_TIER_RULES);
    const s = viewer([[60_000, 1], [60_000, 2]]);
    expect(m.assess('v', s, NOW).tier).toBe('high');
    refundPurchase(s, 'o1', 60_000, 30_000);
    expect(m.assess('v', s, NOW).tier).toBe('mid');
    refundPurchase(s, 'o1', 60_000, 30_000); // the same report again changes nothing
    expect(s.purchases[1]!.amount).toBe(30_000);
    refundPurchase(s, 'o0', 60_000, 60_000);
    refundPurchase(s, 'o1', 60_000, 60_000);
    expect(m.assess('v', s, NOW).tier).toBe('potential');
    expect(m.buyers).toBe(0);
  });
});

describe('lifecycle', () => {
  const L = DEFAULT_TIER_RULES.lifecycle;
  const base = { purchases: [], firstSeenAt: NOW - 3 * DAY, lastSeenAt: NOW, checkouts: [], offers: [] };

  it('new → active → at_risk (no visit) over time', () => {
    expect(computeLifecycle(base, NOW, L)).toMatchObject({ lifecycle: 'new', reasons: ['new: first seen 3 days ago'] });
    expect(computeLifecycle({ ...base, lastSeenAt: NOW - DAY }, NOW + 5 * DAY, L)).toMatchObject({ lifecycle: 'active', reasons: ['active: last seen 6 days ago'] });
    expect(computeLifecycle(base, NOW + 30 * DAY, L)).toMatchObject({ lifecycle: 'at_risk', reasons: ['at risk: no visit for 30 days'] });
  });

  it('at_risk: 2 abandoned checkouts in a row; a purchase after them resets it', () => {
    const c = { ...base, checkouts: [NOW - 5 * 3_600_000, NOW - 2 * 3_600_000] };
    expect(abandonedInRow(c, NOW)).toBe(2);
    expect(computeLifecycle(c, NOW, L)).toMatchObject({ lifecycle: 'at_risk', reasons: ['at risk: 2 abandoned checkouts in a row'] });
    // one still in progress (10 minutes old) is not abandoned yet
    expect(abandonedInRow({ ...base, checkouts: [NOW - 5 * 3_600_000, NOW - 600_000] }, NOW)).toBe(1);
    const bought = { ...c, purchases: [{ orderId: 'x', amount: 100, at: NOW - 3_600_000 }] };
    expect(computeLifecycle(bought, NOW, L).lifecycle).toBe('new');
  });

  it('at_risk: the last 3 expired offers ignored; a click breaks the row', () => {
    const offers = [1, 2, 3].map((i) => ({ expiresAt: NOW - i * DAY, engaged: false }));
    expect(ignoredInRow(offers, NOW)).toBe(3);
    expect(computeLifecycle({ ...base, offers }, NOW, L)).toMatchObject({ lifecycle: 'at_risk', reasons: ['at risk: last 3 offers ignored'] });
    offers[1]!.engaged = true;
    expect(computeLifecycle({ ...base, offers }, NOW, L).lifecycle).toBe('new');
    // unexpired offers do not count as ignored
    expect(ignoredInRow([{ expiresAt: NOW + DAY, engaged: false }], NOW)).toBe(0);
  });

  it('offers that expired at the same moment count the same whatever order they are listed in (a click breaks the row)', () => {
    // fast-check found this: two offers expiring together, one clicked, behind two ignored ones
    const ignored = [{ expiresAt: NOW, engaged: false }, { expiresAt: NOW, engaged: false }];
    const tied = [{ expiresAt: NOW - 11 * DAY, engaged: false }, { expiresAt: NOW - 11 * DAY, engaged: true }];
    expect(ignoredInRow([...ignored, ...tied], NOW)).toBe(2);
    expect(ignoredInRow([...ignored, ...tied.reverse()], NOW)).toBe(2);
  });

  it('lapsed wins over at_risk and new: bought before, nothing for 180 days', () => {
    const old = { ...base, lastSeenAt: NOW - 60 * DAY, purchases: [{ orderId: 'x', amount: 5000, at: NOW - 200 * DAY }] };
    expect(computeLifecycle(old, NOW, L)).toMatchObject({ lifecycle: 'lapsed', reasons: ['lapsed: last verified order 200 days ago (lapsed after 180 days)'] });
    // a fully refunded order is not "bought before"
    expect(computeLifecycle({ ...old, purchases: [{ orderId: 'x', amount: 0, at: NOW - 200 * DAY }] }, NOW, L).lifecycle).toBe('at_risk');
  });

  it("at_risk when the channel's model gives a buyer less than atRiskPAlive of still being active (0: never)", () => {
    const buyer = { ...base, purchases: [{ orderId: 'x', amount: 5000, at: NOW - 20 * DAY }] };
    expect(computeLifecycle({ ...buyer, pAlive: 0.318 }, NOW, L)).toMatchObject({
      lifecycle: 'at_risk',
      explain: [{ code: 'lifecycle.atRisk', params: { pAlive: 0.32, atRiskPAlive: 0.5 } }],
      reasons: ['at risk: 32% chance of buying again (at risk below 50%)'],
    });
    expect(computeLifecycle({ ...buyer, pAlive: 0.5 }, NOW, L).lifecycle).toBe('new');
    expect(computeLifecycle({ ...buyer, pAlive: null }, NOW, L).lifecycle).toBe('new');
    expect(computeLifecycle({ ...buyer, pAlive: 0.1 }, NOW, { ...L, atRiskPAlive: 0 }).lifecycle).toBe('new');
    // a rules document stored before the threshold existed: the default
    const { atRiskPAlive: _, ...older } = L;
    expect(computeLifecycle({ ...buyer, pAlive: 0.2 }, NOW, older).lifecycle).toBe('at_risk');
    // lapsed still wins
    expect(computeLifecycle({ ...buyer, purchases: [{ orderId: 'x', amount: 5000, at: NOW - 200 * DAY }], pAlive: 0.1 }, NOW, L).lifecycle).toBe('lapsed');
  });

  it('the tier model asks its predictive model, when it has one, for each buyer', () => {
    const m = new TierModel(DEFAULT_TIER_RULES);
    const s = emptyState(NOW - 200 * DAY);
    for (const [k, ago] of [100, 97, 94, 91, 88].entries()) addPurchase(s, { orderId: `b${k}`, amount: 5000, at: NOW - ago * DAY });
    s.lastSeenAt = NOW - DAY;
    expect(m.assess('v', s, NOW).lifecycle).toBe('active');
    m.setValueModel({
      status: 'fitted', fittedAt: NOW, buyers: 500, repeatBuyers: 200, bgnbd: { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43, logLikelihood: -1 },
      gammaGamma: null, meanOrderValue: 5000, minBuyers: 200, fitMs: 1,
    });
    const ev = m.assess('v', s, NOW);
    expect(ev.lifecycle).toBe('at_risk');
    expect(ev.reasons.at(-1)).toMatch(/^at risk: \d+% chance of buying again \(at risk below 50%\)$/);
    m.setValueModel(null);
    expect(m.assess('v', s, NOW).lifecycle).toBe('active');
  });

  it("a score rule may rank by predicted 12-month value: high = the top 20% of the channel's buyers", () => {
    const doc: TierRulesDoc = { ...DEFAULT_TIER_RULES, mode: 'scores', minBuyers: 1000, scores: { high: { topPredictedPercent: 20 }, mid: { minRecency: 1 } } };
    const m = new TierModel(doc);
    const s = emptyState(NOW - 100 * DAY);
    for (const [k, ago] of [60, 40, 20, 5].entries()) addPurchase(s, { orderId: `p${k}`, amount: 20_000, at: NOW - ago * DAY });
    const before = m.assess('v', s, NOW);
    expect(before.tier).toBe('mid'); // no model: the rule cannot hold
    expect(before.reasons[1]).toBe('high needs top 20% by predicted value');
    const model = {
      status: 'fitted' as const, fittedAt: NOW, buyers: 500, repeatBuyers: 200, bgnbd: { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43, logLikelihood: -1 },
      gammaGamma: null, meanOrderValue: 20_000, minBuyers: 200, fitMs: 1,
    };
    // this buyer's value above every percentile: the top 1%
    m.setValueModel({ ...model, clvPercentiles: Array.from({ length: 101 }, (_, q) => q * 10) });
    expect(m.assess('v', s, NOW)).toMatchObject({ tier: 'high' });
    expect(m.assess('v', s, NOW).reasons[0]).toMatch(/\(high needs top 20% by predicted value\)$/);
    // …and below the 90th: not in the top 20%
    m.setValueModel({ ...model, clvPercentiles: Array.from({ length: 101 }, (_, q) => q * 1e7) });
    expect(m.assess('v', s, NOW).tier).toBe('mid');
  });

  it('firstSeenAt is the earliest of the first event and the first purchase', () => {
    const s = emptyState(NOW);
    addPurchase(s, { orderId: 'p', amount: 100, at: NOW - 10 * DAY });
    expect(s.firstSeenAt).toBe(NOW - 10 * DAY);
    seen(s, NOW - 12 * DAY);
    expect(s.firstSeenAt).toBe(NOW - 12 * DAY);
  });

  it('the model appends the lifecycle reason after the tier reasons', () => {
    const m = new TierModel(DEFAULT_TIER_RULES);
    const s = viewer([[5000, 200]], { firstSeenAt: NOW - 300 * DAY });
    const r = m.assess('v', s, NOW);
    expect(r).toMatchObject({ tier: 'potential', lifecycle: 'lapsed' });
    expect(r.reasons).toEqual(['no verified purchase in 180 days', 'lapsed: last verified order 200 days ago (lapsed after 180 days)']);
  });
});

// ------------------------------------------------------------------ properties

const TIER_RANK = { potential: 0, mid: 1, high: 2 } as const;
const arbPurchases = fc.array(fc.record({ amount: fc.integer({ min: 0, max: 500_000 }), daysAgo: fc.integer({ min: 0, max: 400 }) }), { maxLength: 8 });

describe('properties', () => {
  for (const rules of [DEFAULT_TIER_RULES, SCORES]) {
    it(`more verified spend never lowers the tier (${rules.mode} rules)`, () => {
      fc.assert(
        fc.property(arbPurchases, fc.integer({ min: 1, max: 500_000 }), fc.integer({ min: 0, max: 400 }), fc.nat({ max: 7 }), fc.nat(200_000), (ps, extra, daysAgo, which, raise) => {
          const m = new TierModel(rules);
          const s = viewer(ps.map((p) => [p.amount, p.daysAgo]));
          const before = TIER_RANK[m.assess('v', s, NOW).tier];
          // a new purchase …
          const more = viewer([...ps.map((p) => [p.amount, p.daysAgo] as [number, number]), [extra, daysAgo]]);
          expect(TIER_RANK[m.assess('v', more, NOW).tier]).toBeGreaterThanOrEqual(before);
          // … or more money on an existing one
          if (s.purchases.length) {
            s.purchases[which % s.purchases.length]!.amount += raise;
            expect(TIER_RANK[m.assess('v', s, NOW).tier]).toBeGreaterThanOrEqual(before);
          }
        }),
        { numRuns: runs(300) },
      );
    });
  }

  type Input =
    | { id: string; kind: 'activity'; at: number; watchMs: number; comments: number; likeEvents: number }
    | { id: string; kind: 'purchase'; at: number; amount: number }
    | { id: string; kind: 'refund'; at: number; order: number; refunded: number }
    | { id: string; kind: 'checkout'; at: number }
    | { id: string; kind: 'offer'; at: number; clicked: boolean };

  const arbInput: fc.Arbitrary<Omit<Input, 'id'>> = fc.oneof(
    fc.record({ kind: fc.constant('activity' as const), at: fc.integer({ min: 0, max: 60 }), watchMs: fc.integer({ min: 0, max: 15_000 }), comments: fc.nat(3), likeEvents: fc.nat(3) }),
    fc.record({ kind: fc.constant('purchase' as const), at: fc.integer({ min: 0, max: 300 }), amount: fc.integer({ min: 1, max: 200_000 }) }),
    fc.record({ kind: fc.constant('refund' as const), at: fc.constant(0), order: fc.nat(5), refunded: fc.integer({ min: 0, max: 200_000 }) }),
    fc.record({ kind: fc.constant('checkout' as const), at: fc.integer({ min: 0, max: 10 }) }),
    fc.record({ kind: fc.constant('offer' as const), at: fc.integer({ min: 0, max: 20 }), clicked: fc.boolean() }),
  );

  /** Applies inputs the way the engine does: dedup by id upstream, then the pure updates. */
  function replay(inputs: Input[]) {
    const s = emptyState(NOW);
    const seenIds = new Set<string>();
    const gross = new Map<string, number>();
    // refunds are totals per order: the largest total reported wins, whatever the order of arrival
    const refunds = new Map<string, number>();
    for (const x of inputs) {
      if (seenIds.has(x.id)) continue;
      seenIds.add(x.id);
      const at = NOW - x.at * DAY;
      if (x.kind === 'activity') addActivity(s, { ...noActivity(), watchMs: x.watchMs, comments: x.comments, likeEvents: x.likeEvents, likes: x.likeEvents }, at);
      else if (x.kind === 'purchase') (addPurchase(s, { orderId: x.id, amount: x.amount, at }), gross.set(x.id, x.amount));
      else if (x.kind === 'refund') refunds.set(`p${x.order}`, Math.max(refunds.get(`p${x.order}`) ?? 0, x.refunded));
      else if (x.kind === 'checkout') addCheckout(s, NOW - x.at * 3_600_000);
      else {
        addOffer(s, { id: x.id, expiresAt: at });
        if (x.clicked) offerEngaged(s, x.id);
      }
    }
    for (const [order, total] of refunds) if (gross.has(order)) refundPurchase(s, order, gross.get(order)!, Math.min(total, gross.get(order)!));
    const r = new TierModel(SCORES).assess('v', s, NOW);
    const abs = new TierModel(DEFAULT_TIER_RULES).assess('v', s, NOW);
    return { tier: r.tier, abs: abs.tier, lifecycle: r.lifecycle, scores: r.scores, reasons: r.reasons, absReasons: abs.reasons };
  }

  it('the same inputs in any order, with duplicates, give the same result', () => {
    fc.assert(
      fc.property(
        fc.array(arbInput, { minLength: 1, maxLength: 25 }).chain((xs) => {
          // purchases get ids p0…; refunds name them
          let n = 0;
          const inputs = xs.map((x, i) => ({ ...x, id: x.kind === 'purchase' ? `p${n++}` : `e${i}` })) as Input[];
          return fc.tuple(fc.constant(inputs), fc.shuffledSubarray(inputs, { minLength: inputs.length, maxLength: inputs.length }), fc.array(fc.nat(inputs.length - 1), { maxLength: 10 }));
        }),
        ([inputs, shuffled, dupIdx]) => {
          const withDups = [...shuffled, ...dupIdx.map((i) => inputs[i]!)];
          expect(replay(withDups)).toEqual(replay(inputs));
        },
      ),
      { numRuns: runs(300) },
    );
  });
});

// ------------------------------------------------------------------ the lazy assessment against the straightforward one

describe('the assessment gives exactly what the straightforward evaluation gave', () => {
  const VALUE_MODEL = {
    status: 'fitted' as const, fittedAt: NOW, buyers: 500, repeatBuyers: 200, bgnbd: { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43, logLikelihood: -1 },
    gammaGamma: null, meanOrderValue: 20_000, minBuyers: 200, fitMs: 1, clvPercentiles: Array.from({ length: 101 }, (_, q) => q * 400),
  };
  const DOCS: TierRulesDoc[] = [
    DEFAULT_TIER_RULES,
    SCORES,
    { ...SCORES, minBuyers: 5, scores: { high: { minFrequency: 3, minEngagement: 3 }, mid: { minMonetary: 2 } } },
    { ...SCORES, minBuyers: 5, scores: { high: { topPredictedPercent: 30 }, mid: { minEngagement: 2 } } },
    { ...DEFAULT_TIER_RULES, absolute: { high: { minOrders: 1, minSpend: 30_000, windowDays: 30 }, mid: { minOrders: 1, windowDays: 400 } }, lifecycle: { ...DEFAULT_TIER_RULES.lifecycle, abandonedCheckouts: 1, ignoredOffers: 1, atRiskDays: 5 } },
  ];
  const arbViewer = fc.record({
    purchases: fc.array(fc.record({ amount: fc.integer({ min: 0, max: 300_000 }), daysAgo: fc.integer({ min: -2, max: 420 }) }), { maxLength: 6 }),
    firstDaysAgo: fc.integer({ min: 0, max: 400 }),
    lastDaysAgo: fc.integer({ min: 0, max: 60 }),
    watchMs: fc.integer({ min: 0, max: 3_600_000 }), comments: fc.nat(20), likes: fc.nat(20), productViews: fc.nat(5), addToCarts: fc.nat(3),
    checkoutsHoursAgo: fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 5 }),
    offers: fc.array(fc.record({ hoursAgo: fc.integer({ min: -50, max: 500 }), engaged: fc.boolean() }), { maxLength: 5 }),
  });
  type V = typeof arbViewer extends fc.Arbitrary<infer T> ? T : never;
  function stateOf(v: V): ViewerState {
    const s = emptyState(NOW - v.firstDaysAgo * DAY);
    s.lastSeenAt = NOW - v.lastDaysAgo * DAY;
    v.purchases.forEach((p, i) => addPurchase(s, { orderId: `o${i}`, amount: p.amount, at: NOW - p.daysAgo * DAY }));
    addActivity(s, { watchMs: v.watchMs, comments: v.comments, likes: v.likes, likeEvents: v.likes, productViews: v.productViews, addToCarts: v.addToCarts }, NOW - v.lastDaysAgo * DAY);
    for (const h of v.checkoutsHoursAgo) addCheckout(s, NOW - h * 3_600_000);
    v.offers.forEach((o, i) => addOffer(s, { id: `f${i}`, expiresAt: NOW - o.hoursAgo * 3_600_000, engaged: o.engaged }));
    return s;
  }

  it('tier, lifecycle, scores, RFM values and every reason, in both modes, with and without a predictive model', () => {
    fc.assert(
      fc.property(fc.array(arbViewer, { minLength: 1, maxLength: 30 }), fc.nat(DOCS.length - 1), fc.boolean(), fc.array(fc.nat(5), { minLength: 1, maxLength: 8 }), (viewers, d, withModel, kinds) => {
        const nudges = kinds.map((k) => (s: ViewerState) => {
          if (k === 0) addActivity(s, { ...noActivity(), watchMs: 20_000 }, NOW);
          else if (k === 1) addActivity(s, { ...noActivity(), likes: 1, likeEvents: 1 }, NOW);
          else if (k === 2) addPurchase(s, { orderId: `n${s.purchases.length}`, amount: 1_000, at: NOW - 3 * DAY });
          else if (k === 3) s.purchases.length && (s.purchases[0]!.amount += 500);
          else if (k === 4) addCheckout(s, NOW - 2 * 3_600_000);
          else addActivity(s, { ...noActivity(), comments: 1 }, NOW - 40 * DAY);
        });
        const m = new TierModel(DOCS[d]!);
        if (withModel) m.setValueModel(VALUE_MODEL);
        const states = viewers.map(stateOf);
        states.forEach((s, i) => m.assess(`v${i}`, s, NOW)); // the channel's distribution
        let prev: ReturnType<TierModel['assess']> | null = null;
        let prevRef: ReturnType<typeof referenceEvaluate> | null = null;
        states.forEach((s, i) => {
          const got = m.assess(`v${i}`, s, NOW);
          const want = referenceEvaluate(m, s, NOW);
          expect({ tier: got.tier, lifecycle: got.lifecycle, scores: got.scores, rfm: got.rfm, explain: got.explain }).toEqual(want);
          expect(JSON.stringify(got.explain)).toBe(JSON.stringify(want.explain)); // key order too: stored reasons compare as text
          if (prev && prevRef) expect(got.sameAs(prev)).toBe(sameExplain(want.explain, prevRef.explain) && want.tier === prevRef.tier && want.lifecycle === prevRef.lifecycle);
          prev = got;
          prevRef = want;
          // a small change to the same viewer: the comparison of numbers says what comparing the reasons says
          const change = nudges[i % nudges.length]!;
          change(s);
          const after = m.assess(`v${i}`, s, NOW);
          const afterRef = referenceEvaluate(m, s, NOW);
          expect(after.explain).toEqual(afterRef.explain);
          expect(after.sameAs(got)).toBe(sameExplain(afterRef.explain, want.explain) && afterRef.tier === want.tier && afterRef.lifecycle === want.lifecycle);
        });
      }),
      { numRuns: runs(300) },
    );
  });
});
