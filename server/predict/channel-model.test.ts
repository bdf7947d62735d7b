import { describe, expect, it } from 'vitest';
import { cdnowSamplePurchases } from './cdnow-fixture.js';
import { DEFAULT_MIN_BUYERS, fitChannel, fitChannelModel, mineCrossSell, topPercentOf, predictAll, skusOf, predictViewer, STABILIZING_PENALIZER, type ModelPurchase } from './channel-model.js';

const END = Date.UTC(1997, 8, 30);
// CDNOW has a few $0 orders, which the literature counts as purchases; here a net amount of 0 is a
// fully refunded order (no purchase), so they are given 1 cent to stay purchases as in the reference
const cdnow: ModelPurchase[] = cdnowSamplePurchases().map((p) => ({ viewerId: p.sampleId, amount: Math.max(1, Math.round(p.dollars * 100)), at: p.at }));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('a channel model fitted on CDNOW (weeks, calibration to 1997-09-30)', () => {
  const model = fitChannelModel(cdnow, END);

  it('has the published BG/NBD parameters and a Gamma-Gamma spend model', () => {
    expect(model).toMatchObject({ status: 'fitted', buyers: 2357, minBuyers: DEFAULT_MIN_BUYERS, fittedAt: END });
    const bg = model.bgnbd!;
    for (const [k, v] of [['r', 0.2426], ['alpha', 4.4135], ['a', 0.7929], ['b', 2.4258]] as const) expect(rel(bg[k], v), k).toBeLessThan(1e-3);
    expect(bg.logLikelihood).toBeCloseTo(-9582.43, 1);
    expect(model.gammaGamma).not.toBeNull();
    expect(model.repeatBuyers).toBeGreaterThan(MIN_REPEAT);
    expect(model.penalizer).toBe(0);
  });

  it("predicts a buyer's value: pAlive, orders in 90 days, order value and a year's value, in minor units", () => {
    // a customer who bought on 3 days (x = 2), the last 30.43 weeks after the first, first 38.86 weeks before the end
    const first = END - Math.round(38.86 * 7) * 86_400_000;
    const p = predictViewer(model, [
      { amount: 2_000, at: first },
      { amount: 3_000, at: first + 100 * 86_400_000 },
      { amount: 4_000, at: first + Math.round(30.43 * 7) * 86_400_000 },
    ], END, 'USD')!;
    expect(p.currency).toBe('USD');
    expect(p.pAlive).toBeGreaterThan(0.5);
    expect(p.pAlive).toBeLessThanOrEqual(1);
    // E[X] over the next 39 weeks is 1.226 for this history: 90 days are 12.9 weeks, a third or so of it
    expect(p.expectedOrders90d).toBeGreaterThan(0.3);
    expect(p.expectedOrders90d).toBeLessThan(0.6);
    expect(p.expectedOrderValue).toBeGreaterThan(2_000);
    expect(p.expectedOrderValue).toBeLessThan(4_000);
    expect(p.clv365d).toBeGreaterThan(p.expectedOrderValue);
    for (const v of Object.values(p)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
  });

  it('a long-quiet buyer is less likely alive than a recent one; a viewer with no purchase has no prediction', () => {
    const day = 86_400_000;
    const quiet = predictViewer(model, [{ amount: 1000, at: END - 300 * day }, { amount: 1000, at: END - 290 * day }, { amount: 1000, at: END - 280 * day }], END, 'USD')!;
    const recent = predictViewer(model, [{ amount: 1000, at: END - 30 * day }, { amount: 1000, at: END - 20 * day }, { amount: 1000, at: END - 10 * day }], END, 'USD')!;
    expect(quiet.pAlive).toBeLessThan(recent.pAlive);
    expect(quiet.pAlive).toBeLessThan(0.5);
    expect(predictViewer(model, [], END, 'USD')).toBeNull();
    expect(predictViewer(model, [{ amount: 0, at: END - day }], END, 'USD')).toBeNull(); // refunded in full
  });
});

const MIN_REPEAT = 20;

describe('a fit that runs off to a boundary', () => {
  it('is fitted again with a small penalty, so predictions stay bounded and quick', () => {
    // buyers who all behave alike: the plain fit sends a and b to ~1e12
    const now = Date.UTC(2026, 0, 1);
    const day = 86_400_000;
    const ps: ModelPurchase[] = [];
    for (let b = 0; b < 40; b++) {
      const days = b % 2 === 0 ? [180, 150, 120, 90, 60, 30] : [130, 127, 124, 121, 118];
      for (const ago of days) ps.push({ viewerId: `b${b}`, amount: 5000 + 100 * b, at: now - (ago - (b % 7)) * day });
    }
    const m = fitChannelModel(ps, now, { minBuyers: 20 });
    expect(m.status).toBe('fitted');
    expect(m.penalizer).toBe(STABILIZING_PENALIZER);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(m.bgnbd![k]).toBeLessThan(1000);
    expect(predictAll(m, ps, now)).toHaveLength(40);
  });
});

describe('too little data', () => {
  it('is insufficient_data below the minimum of buyers, or of repeat buyers; no prediction then', () => {
    const few = cdnow.filter((p) => Number(p.viewerId) <= 150);
    const m = fitChannelModel(few, END);
    expect(m).toMatchObject({ status: 'insufficient_data', bgnbd: null, gammaGamma: null });
    expect(m.buyers).toBeLessThan(DEFAULT_MIN_BUYERS);
    expect(predictViewer(m, [{ amount: 100, at: END }], END, 'USD')).toBeNull();
    // 300 one-time buyers: enough buyers, nobody came back
    const once: ModelPurchase[] = Array.from({ length: 300 }, (_, i) => ({ viewerId: `v${i}`, amount: 1000, at: END - i * 86_400_000 }));
    expect(fitChannelModel(once, END)).toMatchObject({ status: 'insufficient_data', buyers: 300, repeatBuyers: 0, meanOrderValue: 1000 });
    expect(fitChannelModel(once, END, { minBuyers: 10 }).status).toBe('insufficient_data');
  });

  it('without enough repeat spenders for Gamma-Gamma, an order is worth the mean order', () => {
    const m = fitChannelModel(cdnow, END);
    const noSpend = { ...m, gammaGamma: null };
    const p = predictViewer(noSpend, [{ amount: 5_000, at: END - 100 * 86_400_000 }, { amount: 5_000, at: END - 50 * 86_400_000 }], END, 'USD')!;
    expect(p.expectedOrderValue).toBe(m.meanOrderValue);
    const withSpend = predictViewer(m, [{ amount: 5_000, at: END - 100 * 86_400_000 }, { amount: 5_000, at: END - 50 * 86_400_000 }], END, 'USD')!;
    // the same expected orders: the year's value scales with the order value alone
    expect(p.clv365d / p.expectedOrderValue).toBeCloseTo(withSpend.clv365d / withSpend.expectedOrderValue, 3);
  });
});

describe('cross-sell rules', () => {
  const now = Date.UTC(2026, 0, 1);
  it('finds "buyers of TEA-01 also buy CUP-02" with its support, confidence, lift and orders', () => {
    const ps: ModelPurchase[] = [];
    for (let i = 0; i < 100; i++) ps.push({ viewerId: `t${i}`, amount: 100, at: now - i, skus: i < 65 ? ['TEA-01', 'CUP-02'] : ['TEA-01'] });
    for (let i = 0; i < 100; i++) ps.push({ viewerId: `o${i}`, amount: 100, at: now - i, skus: [i % 2 ? 'PEN-03' : 'INK-04'] });
    ps.push({ viewerId: 'gone', amount: 0, at: now, skus: ['TEA-01', 'INK-04'] }); // refunded in full: not an order
    ps.push({ viewerId: 'later', amount: 100, at: now + 1, skus: ['TEA-01', 'INK-04'] }); // after the fit
    ps.push({ viewerId: 'none', amount: 100, at: now }); // no items: not a basket
    const cs = mineCrossSell(ps, now);
    expect(cs).toMatchObject({ fittedAt: now, orders: 200, minSupport: 0.01, minConfidence: 0.3 });
    // CUP-02 → TEA-01 (confidence 1) comes first; TEA-01 → CUP-02 is the one the host reads as "65% also buy"
    expect(cs.rules).toEqual([
      { if: ['CUP-02'], then: ['TEA-01'], support: 0.325, confidence: 1, lift: 2, orders: 65 },
      { if: ['TEA-01'], then: ['CUP-02'], support: 0.325, confidence: 0.65, lift: 2, orders: 65 },
    ]);
  });
  it('too few orders with items: no rules; SKUs read from stored items', () => {
    expect(mineCrossSell([{ viewerId: 'a', amount: 1, at: now, skus: ['A', 'B'] }], now).rules).toEqual([]);
    expect(skusOf('[{"sku":"A","quantity":2},{"sku":"B"}]')).toEqual({ skus: ['A', 'B'] });
    expect(skusOf([{ sku: 'A' }])).toEqual({ skus: ['A'] });
    expect(skusOf(null)).toEqual({});
    expect(skusOf('not json')).toEqual({});
  });
});

describe('rank by predicted value', () => {
  it('keeps the buyers\' value percentiles with a fit and ranks a value among them', () => {
    const { model, predictions } = fitChannel(cdnow, new Map(), END);
    expect(model.clvPercentiles).toHaveLength(101);
    expect(model.clvPercentiles![0]).toBeLessThanOrEqual(model.clvPercentiles![100]!);
    const best = Math.max(...predictions.map((p) => p.clv365d));
    expect(topPercentOf(model, best + 1)).toBe(1);
    expect(topPercentOf(model, -1)).toBe(100);
    expect(topPercentOf(model, model.clvPercentiles![50]!)).toBeGreaterThanOrEqual(50);
    expect(topPercentOf(null, 10)).toBeNull();
  });
});
