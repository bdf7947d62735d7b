/**
 * BG/NBD on CDNOW (weeks; Fader, Hardie & Lee 2005 fit r, alpha, a, b = 0.243, 4.414, 0.793, 2.426 and
 * report log-likelihood -9582.4). Reference values: the lifetimes library's fit, and an independent
 * evaluation with scipy (scipy.optimize on the same likelihood; scipy.special.hyp2f1 for the
 * expectations) or mpmath at 50 digits for the hard corners.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from '../../test/helpers/property.js';
import {
  bgNbdLogLikelihood,
  conditionalExpected,
  expectedRepeats,
  expectedWhileAlive,
  fitBgNbd,
  pAlive,
  type BgNbdParams,
} from './bgnbd.js';
import { cdnowSummaries } from './cdnow-fixture.js';
import { seededRandom, type Random } from './rng.js';
import { hyp2f1Log } from './special.js';

const cdnow = cdnowSummaries();
const fit = fitBgNbd(cdnow);
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('fitBgNbd on CDNOW', () => {
  it('reproduces the published parameters and log-likelihood', () => {
    expect(fit.converged).toBe(true);
    expect(rel(fit.r, 0.2426)).toBeLessThan(1e-3);
    expect(rel(fit.alpha, 4.4135)).toBeLessThan(1e-3);
    expect(rel(fit.a, 0.7929)).toBeLessThan(1e-3);
    expect(rel(fit.b, 2.4258)).toBeLessThan(1e-3);
    expect(Math.abs(fit.logLikelihood - -9582.43)).toBeLessThan(0.01);
    // tighter, against scipy's optimum of the same likelihood
    expect(rel(fit.r, 0.242592894)).toBeLessThan(1e-6);
    expect(rel(fit.alpha, 4.41353152)).toBeLessThan(1e-6);
    expect(rel(fit.a, 0.792886083)).toBeLessThan(1e-6);
    expect(rel(fit.b, 2.42575356)).toBeLessThan(1e-6);
    expect(fit.logLikelihood).toBeCloseTo(-9582.425560567, 6);
    expect(fit.customers).toBe(2357);
  });

  it('weights identical rows by count: 100 copies fit like one copy with count 100', () => {
    const copies = Array.from({ length: 100 }, () => cdnow).flat();
    const big = fitBgNbd(copies);
    expect(big.distinct).toBe(fit.distinct);
    expect(big.customers).toBe(235_700);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(rel(big[k], fit[k])).toBeLessThan(1e-6);
    expect(rel(big.logLikelihood, 100 * fit.logLikelihood)).toBeLessThan(1e-9);
    const counted = fitBgNbd(cdnow.map((c) => ({ ...c, count: 100 })));
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(counted[k]).toBe(big[k]);
  });

  it('does not depend on the time unit: days give the same shape parameters and 7x alpha', () => {
    const days = fitBgNbd(cdnow.map((c) => ({ x: c.x, t_x: c.t_x * 7, T: c.T * 7 })));
    expect(rel(days.r, fit.r)).toBeLessThan(1e-6);
    expect(rel(days.alpha, 7 * fit.alpha)).toBeLessThan(1e-6);
    expect(rel(days.a, fit.a)).toBeLessThan(1e-6);
    expect(rel(days.b, fit.b)).toBeLessThan(1e-6);
  });

  it('the log-likelihood function agrees with the fit and is maximal there', () => {
    expect(bgNbdLogLikelihood(fit, cdnow)).toBeCloseTo(fit.logLikelihood, 9);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      for (const f of [0.99, 1.01]) {
        expect(bgNbdLogLikelihood({ ...fit, [k]: fit[k] * f }, cdnow)).toBeLessThan(fit.logLikelihood);
      }
    }
  });

  it('the penalizer shrinks the parameters (lifetimes penalizer_coef)', () => {
    const pen = fitBgNbd(cdnow, { penalizer: 0.1 });
    expect(pen.converged).toBe(true);
    expect(pen.logLikelihood).toBeLessThan(fit.logLikelihood);
    expect(pen.a ** 2 + pen.b ** 2).toBeLessThan(fit.a ** 2 + fit.b ** 2);
  });

  it('rejects invalid histories', () => {
    expect(() => fitBgNbd([{ x: 1.5, t_x: 1, T: 2 }])).toThrow(RangeError);
    expect(() => fitBgNbd([{ x: 1, t_x: 3, T: 2 }])).toThrow(RangeError);
    expect(() => fitBgNbd([{ x: 1, t_x: NaN, T: 2 }])).toThrow(RangeError);
    expect(() => fitBgNbd([])).toThrow(RangeError);
  });
});

describe('BG/NBD predictions at the CDNOW fit', () => {
  it('E[X(t)] at 1, 3, 32 and 78 weeks', () => {
    expect(expectedRepeats(fit, 1)).toBeCloseTo(0.0532, 4);
    expect(expectedRepeats(fit, 3)).toBeCloseTo(0.1506, 4);
    expect(expectedRepeats(fit, 32)).toBeCloseTo(1.0437, 4);
    // scipy gives 1.857972 at these parameters (so 1.8580 to 4 decimals)
    expect(expectedRepeats(fit, 78)).toBeCloseTo(1.857972, 5);
    expect(expectedRepeats(fit, 0)).toBe(0);
  });

  it('conditional expectation and P(alive) of customer 1 (x = 2, t_x = 30.43, T = 38.86)', () => {
    expect(conditionalExpected(fit, 39, 2, 30.43, 38.86)).toBeCloseTo(1.226, 3);
    expect(conditionalExpected(fit, 39, 2, 30.43, 38.86)).toBeCloseTo(1.2259105, 6); // scipy
    expect(pAlive(fit, 2, 30.43, 38.86)).toBeCloseTo(0.72661, 5);
    expect(pAlive(fit, 0, 0, 38.86)).toBe(1);
    // a customer who bought often and then stopped long ago is almost surely gone
    expect(pAlive(fit, 20, 1, 38.86)).toBeLessThan(1e-10);
  });

  it('matches mpmath (50 digits) in the hard corners: a = 1, a + b = 1, z -> 1, x = 500', () => {
    // [r, alpha, a, b, x, t_x, T, t, E[Y(t) | x, t_x, T]]
    const cases: [number, number, number, number, number, number, number, number, number][] = [
      [0.2426, 4.4135, 0.7929, 2.4258, 0, 0, 0, 1000, 6.5731729831312722],
      [0.5, 0.05, 1.0, 0.5, 0, 0, 0, 1000, 4.9517687756430848],
      [0.5, 0.05, 1.0004, 2.0, 3, 10, 20, 1000, 4.6461293897461474],
      [2.0, 1.0, 0.5, 0.5, 0, 0, 0, 1000, 47.426253293906243], // c = 0: by quadrature
      [0.3, 2.0, 3.0, 1.3, 0, 0, 0, 500, 1.2674171379893941],
      [1.5, 10.0, 0.8, 3.0, 500, 900, 1000, 1000, 4.5515860136054612e-18],
      [0.01, 0.1, 0.01, 100, 0, 0, 0, 1000, 96.858208676451709],
      [10, 1000, 10, 100, 0, 0, 1000, 1, 0.00499875024770462],
      [0.7, 0.3, 1.7, 0.3, 1, 0, 0, 900, 0.42663817908782502],
    ];
    for (const [r, alpha, a, b, x, t_x, T, t, ref] of cases) {
      const v = conditionalExpected({ r, alpha, a, b }, t, x, t_x, T);
      expect(rel(v, ref), JSON.stringify({ r, alpha, a, b, x, t_x, T, t })).toBeLessThan(1e-10);
    }
  });

  it('agrees with the paper\'s closed form evaluated by hyp2f1 (two independent routes)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.double({ min: 0.5, max: 50, noNaN: true }),
        fc.double({ min: 0.05, max: 5, noNaN: true }).filter((a) => Math.abs(a - 1) > 0.05),
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        fc.integer({ min: 0, max: 30 }),
        fc.double({ min: 0.1, max: 2000, noNaN: true }),
        (r, alpha, a, b, x, t) => {
          // E[Y(t) | alive] = (a+b+x-1)/(a-1) (1 - (alpha/(alpha+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+t)))
          const c = a + b + x - 1;
          if (Math.abs(c) < 0.05) return;
          const f = hyp2f1Log(r + x, b + x, c, t / (alpha + t));
          const closed = (c / (a - 1)) * (1 - f.sign * Math.exp(f.log + (r + x) * Math.log(alpha / (alpha + t))));
          const ours = expectedWhileAlive(r + x, alpha, a, b + x, t);
          expect(Math.abs(ours - closed)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c / (a - 1)), ours));
        },
      ),
      { numRuns: runs(200) },
    );
  });

  it('agrees with a simulation of the process', () => {
    // draw lambda ~ Gamma(r, alpha), p ~ Beta(a, b); buy at rate lambda, drop out w.p. p after each buy
    const params: BgNbdParams = { r: 0.8, alpha: 6, a: 1.3, b: 3 };
    const random = seededRandom(20240601);
    const t = 52;
    const n = 40_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const lambda = gamma(random, params.r) / params.alpha;
      const g1 = gamma(random, params.a);
      const p = g1 / (g1 + gamma(random, params.b));
      let now = 0;
      let count = 0;
      for (;;) {
        now += -Math.log(1 - random()) / lambda;
        if (now > t) break;
        count++;
        if (random() < p) break;
      }
      sum += count;
      sumSq += count * count;
    }
    const mean = sum / n;
    const se = Math.sqrt((sumSq / n - mean * mean) / n);
    expect(Math.abs(mean - expectedRepeats(params, t))).toBeLessThan(4 * se);
  });
});

/** Marsaglia & Tsang's Gamma(shape, 1) sampler (with the shape < 1 boost) */
function gamma(random: Random, shape: number): number {
  if (shape < 1) return gamma(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

describe('BG/NBD functions never return NaN or Infinity', () => {
  const param = fc.record({
    r: fc.double({ min: 0.01, max: 10, noNaN: true }),
    alpha: fc.double({ min: 0.01, max: 1000, noNaN: true }),
    a: fc.oneof(fc.double({ min: 0.01, max: 10, noNaN: true }), fc.constantFrom(1, 1 - 1e-9, 1 + 5e-4, 2, 3)),
    b: fc.oneof(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.constantFrom(0.5, 1, 2)),
  });
  const history = fc
    .record({
      x: fc.integer({ min: 0, max: 500 }),
      T: fc.oneof(fc.double({ min: 0, max: 1000, noNaN: true }), fc.constantFrom(0, 1000)),
      u: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ x, T, u }) => ({ x, T, t_x: T * u }));
  const horizon = fc.oneof(fc.double({ min: 0, max: 1000, noNaN: true }), fc.constantFrom(0, 1e-9, 1000));

  it('for integer x in 0..500, 0 <= t_x <= T <= 1000, t <= 1000', () => {
    fc.assert(
      fc.property(param, history, horizon, (p, h, t) => {
        const alive = pAlive(p, h.x, h.t_x, h.T);
        expect(alive >= 0 && alive <= 1).toBe(true);
        const e = expectedRepeats(p, t);
        expect(Number.isFinite(e) && e >= 0).toBe(true);
        const c = conditionalExpected(p, t, h.x, h.t_x, h.T);
        expect(Number.isFinite(c) && c >= 0).toBe(true);
        const ll = bgNbdLogLikelihood(p, [h]);
        expect(Number.isFinite(ll)).toBe(true);
        // more time never means fewer expected purchases
        const later = conditionalExpected(p, Math.min(1000, t * 1.5 + 1), h.x, h.t_x, h.T);
        expect(later).toBeGreaterThanOrEqual(c * (1 - 1e-9));
      }),
      { numRuns: runs(300) },
    );
  });

  it('the evaluation branches agree where they meet (z = 0.99 and 0.9999)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 20, noNaN: true }),
        fc.oneof(fc.double({ min: 0.02, max: 10, noNaN: true }), fc.constantFrom(1, 1 + 1e-4)),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.constantFrom(99, 9999),
        (rp, a, bp, edge) => {
          // z = t / (alpha + t) = edge / (1 + edge) at t = edge alpha: evaluate just below and above
          const below = expectedWhileAlive(rp, 1, a, bp, edge * (1 - 1e-12));
          const above = expectedWhileAlive(rp, 1, a, bp, edge * (1 + 1e-12));
          expect(Math.abs(above - below)).toBeLessThan(1e-8 * Math.max(1, below));
        },
      ),
      { numRuns: runs(200) },
    );
  });
});
