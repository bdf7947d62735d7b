/**
 * Gamma-Gamma on CDNOW's 946 repeat buyers (Fader, Hardie & Lee 2005b: p, q, gamma = 6.25, 3.74,
 * 15.44; lifetimes prints 6.25, 3.74, 15.45; scipy.optimize on the same likelihood: 6.248802,
 * 3.744588, 15.447748, log-likelihood -4055.923244).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from '../../test/helpers/property.js';
import { cdnowSummaries } from './cdnow-fixture.js';
import {
  expectedOrderValue,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  populationMeanSpend,
} from './gammagamma.js';

const rows = cdnowSummaries().map((r) => ({ x: r.x, zbar: r.zbar }));
const fit = fitGammaGamma(rows);
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('fitGammaGamma on CDNOW', () => {
  it('reproduces p, q, v (2 decimals) on the repeat buyers', () => {
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(946);
    expect(fit.skipped).toBe(1411);
    expect(Math.abs(fit.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(fit.q - 3.74)).toBeLessThan(0.01);
    // the maximum is at 15.4477: 15.44 in the paper, 15.45 rounded
    expect(Math.abs(fit.v - 15.44)).toBeLessThan(0.01);
    expect(rel(fit.p, 6.248802)).toBeLessThan(1e-6);
    expect(rel(fit.q, 3.744588)).toBeLessThan(1e-6);
    expect(rel(fit.v, 15.447748)).toBeLessThan(1e-6);
    expect(fit.logLikelihood).toBeCloseTo(-4055.923244, 5);
    expect(gammaGammaLogLikelihood(fit, rows)).toBeCloseTo(fit.logLikelihood, 9);
  });

  it('is the same fit with q unconstrained (the optimum has q > 1) and scales with the currency', () => {
    const free = fitGammaGamma(rows, { constrainQ: false });
    for (const k of ['p', 'q', 'v'] as const) expect(rel(free[k], fit[k])).toBeLessThan(1e-6);
    const cents = fitGammaGamma(rows.map((r) => ({ x: r.x, zbar: r.zbar * 100 })));
    expect(rel(cents.p, fit.p)).toBeLessThan(1e-6);
    expect(rel(cents.q, fit.q)).toBeLessThan(1e-6);
    expect(rel(cents.v, 100 * fit.v)).toBeLessThan(1e-6);
  });

  it('weights identical rows by count', () => {
    const counted = fitGammaGamma(rows.map((r) => ({ ...r, count: 3 })));
    const tripled = fitGammaGamma([...rows, ...rows, ...rows]);
    expect(counted.p).toBe(tripled.p);
    expect(rel(counted.logLikelihood, 3 * fit.logLikelihood)).toBeLessThan(1e-9);
  });

  it('keeps q > 1 under the constraint even when the data would not', () => {
    // spend so dispersed across customers that the unconstrained optimum has q <= 1
    const wild = Array.from({ length: 200 }, (_, i) => ({ x: 1 + (i % 4), zbar: Math.exp(((i * 7919) % 200) / 12) }));
    const constrained = fitGammaGamma(wild);
    expect(constrained.q).toBeGreaterThan(1);
    expect(Number.isFinite(populationMeanSpend(constrained))).toBe(true);
    const free = fitGammaGamma(wild, { constrainQ: false });
    expect(free.q).toBeLessThan(1);
    expect(() => populationMeanSpend(free)).toThrow(RangeError);
  });
});

describe('expectedOrderValue', () => {
  it('is the population mean for x = 0 and shrinks zbar towards it otherwise', () => {
    const mean = (fit.p * fit.v) / (fit.q - 1);
    expect(expectedOrderValue(fit, 0, 0)).toBeCloseTo(mean, 12);
    expect(mean).toBeCloseTo(35.171, 3);
    // customer 1 of CDNOW: x = 2, zbar = 22.35
    const e = expectedOrderValue(fit, 2, 22.35);
    expect(e).toBeCloseTo((fit.p * (fit.v + 2 * 22.35)) / (2 * fit.p + fit.q - 1), 12);
    expect(e).toBeGreaterThan(22.35);
    expect(e).toBeLessThan(mean);
  });

  it('lies between zbar and the population mean, nearer zbar the more purchases', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0.01, max: 1e5, noNaN: true }), (x, zbar) => {
        const e = expectedOrderValue(fit, x, zbar);
        const mean = populationMeanSpend(fit);
        expect(Number.isFinite(e)).toBe(true);
        expect(e).toBeGreaterThanOrEqual(Math.min(zbar, mean) * (1 - 1e-12));
        expect(e).toBeLessThanOrEqual(Math.max(zbar, mean) * (1 + 1e-12));
        const more = expectedOrderValue(fit, x + 1, zbar);
        expect(Math.abs(more - zbar)).toBeLessThanOrEqual(Math.abs(e - zbar) * (1 + 1e-12));
      }),
      { numRuns: runs(200) },
    );
  });

  it('rejects invalid input', () => {
    expect(() => expectedOrderValue(fit, -1, 3)).toThrow(RangeError);
    expect(() => expectedOrderValue(fit, 2, NaN)).toThrow(RangeError);
    expect(() => fitGammaGamma([{ x: 0, zbar: 0 }])).toThrow(RangeError);
  });
});
