/**
 * Special functions against closed forms and against mpmath at 30 digits (values computed once with
 * mpmath.hyp2f1 / loggamma / digamma and pasted here).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from '../../test/helpers/property.js';
import {
  digamma,
  digammaDifference,
  hyp2f1,
  hyp2f1Log,
  logAddExp,
  logGamma,
  logPochhammer,
  logistic,
} from './special.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('logGamma and digamma', () => {
  it('match factorials, half-integers and reflection', () => {
    let f = 1;
    for (let n = 1; n < 30; n++) {
      const exact = Math.log((f *= n));
      expect(Math.abs(logGamma(n + 1) - exact)).toBeLessThan(1e-14 * Math.max(1, exact));
    }
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-14);
    expect(rel(logGamma(0.5), 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
    expect(rel(logGamma(-0.5), 1.265512123484645)).toBeLessThan(1e-14); // |Gamma(-1/2)| = 2 sqrt(pi)
    expect(rel(logGamma(-2.3), 0.369566663455008)).toBeLessThan(1e-13);
    expect(rel(logGamma(170.3), 702.9773854513282)).toBeLessThan(1e-15);
    expect(rel(logGamma(0.001), 6.907178885383854)).toBeLessThan(1e-14);
    expect(logGamma(0)).toBe(Infinity);
    expect(logGamma(-3)).toBe(Infinity);
  });

  it('digamma matches known values', () => {
    const euler = 0.5772156649015329;
    expect(rel(digamma(1), -euler)).toBeLessThan(1e-14);
    expect(rel(digamma(0.5), -euler - 2 * Math.LN2)).toBeLessThan(1e-14);
    expect(rel(digamma(0.001), -1000.57557193181)).toBeLessThan(1e-14);
    expect(rel(digamma(25.5), 3.21894247288392)).toBeLessThan(1e-14);
    expect(rel(digamma(-2.3), 3.317323157561823)).toBeLessThan(1e-12);
  });

  it('Pochhammer helpers agree between the exact sums and lgamma differences', () => {
    for (const v of [0.01, 0.3, 2.5, 40]) {
      for (const n of [1, 5, 64]) {
        expect(rel(logPochhammer(v, n), logGamma(v + n) - logGamma(v))).toBeLessThan(1e-12);
        expect(rel(digammaDifference(v, n), digamma(v + n) - digamma(v))).toBeLessThan(1e-11);
      }
    }
  });

  it('log-space helpers never overflow', () => {
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logAddExp(-Infinity, 3)).toBe(3);
    expect(logistic(1000)).toBe(1);
    expect(logistic(-1000)).toBe(0);
    expect(logistic(0)).toBe(0.5);
  });
});

/** [a, b, c, z, 2F1 by mpmath] */
const MPMATH: [number, number, number, number, number][] = [
  [1, 1, 2, 0.3, 1.188916479795775],
  [1, 1, 2, 0.9, 2.558427881104495],
  [1, 1, 2, 0.999, 6.914669948931067],
  [0.5, 0.5, 1.5, 0.7, 1.184658708432779],
  [0.5, 1, 1.5, -4, 0.5535743588970453],
  [0.2426, 2.4258, 2.2187, 0.946, 2.380352716620856],
  [2.3, 1.7, 4.0000004, 0.8, 3.780995951694475],
  [3, 4, 7.0005, 0.95, 36.59995945658623],
  [0.3, 0.4, -2.5, 0.7, -3.47936248141121],
  [10, 20, 5.5, 0.6, 228992881079.9406],
  [-3, 2, 1.5, 0.9, -0.04502857142857142],
  [0.5, 0.7, 1.2, -0.5, 0.8856522248475648],
  [1.5, 2.5, 3.2, -30, 0.01061209246947865],
];

describe('hyp2f1', () => {
  it('matches mpmath on every branch (series, 1 - z, near-integer d, Pfaff, polynomial)', () => {
    for (const [a, b, c, z, ref] of MPMATH) {
      expect(rel(hyp2f1(a, b, c, z), ref), `2F1(${a}, ${b}; ${c}; ${z})`).toBeLessThan(1e-11);
    }
  });

  it('keeps huge values in log space', () => {
    // 2F1(502.24, 502.4; 502.2; 0.474) = 1.541437739797719e140 (mpmath)
    const v = hyp2f1Log(502.24, 502.4, 502.2, 0.474);
    expect(v.sign).toBe(1);
    expect(rel(v.log, Math.log(1.541437739797719) + 140 * Math.LN10)).toBeLessThan(1e-13);
    const w = hyp2f1Log(600, 600, 1.5, 0.97); // ~ e^(4000): far past double range
    expect(w.sign).toBe(1);
    expect(Number.isFinite(w.log) && w.log > 700).toBe(true);
  });

  it('matches closed forms', () => {
    for (const z of [0.1, 0.5, 0.6, 0.9, 0.99, 0.999999]) {
      expect(rel(hyp2f1(1, 1, 2, z), -Math.log1p(-z) / z)).toBeLessThan(1e-11); // d = 0: the interpolated branch
      expect(rel(hyp2f1(0.7, 2.2, 2.2, z), Math.pow(1 - z, -0.7))).toBeLessThan(1e-12);
      const s = Math.sqrt(z);
      expect(rel(hyp2f1(0.5, 0.5, 1.5, z), Math.asin(s) / s)).toBeLessThan(1e-11);
    }
    for (const x of [0.5, 1, 3, 30, 1000]) {
      expect(rel(hyp2f1(0.5, 1, 1.5, -x * x), Math.atan(x) / x)).toBeLessThan(1e-11); // beyond |z| = 1
    }
    // Gauss's sum at z = 1: Gamma(c) Gamma(c-a-b) / (Gamma(c-a) Gamma(c-b))
    expect(rel(hyp2f1(0.5, 0.25, 2, 1), Math.exp(logGamma(2) + logGamma(1.25) - logGamma(1.5) - logGamma(1.75)))).toBeLessThan(1e-13);
    // terminating: 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z^2/(c(c+1))
    expect(rel(hyp2f1(-2, 3, 4, 0.95), 1 - (2 * 3 * 0.95) / 4 + (3 * 4 * 0.95 * 0.95) / 20)).toBeLessThan(1e-14);
  });

  it('throws instead of returning NaN at poles and outside the real domain', () => {
    expect(() => hyp2f1(1, 2, 0, 0.3)).toThrow(RangeError);
    expect(() => hyp2f1(1, 2, -3, 0.8)).toThrow(RangeError);
    expect(() => hyp2f1(1, 2, 3, 1.5)).toThrow(RangeError);
    expect(() => hyp2f1(1, 2, 3, 1)).toThrow(RangeError); // c - a - b = 0: diverges
    expect(() => hyp2f1(NaN, 2, 3, 0.5)).toThrow(RangeError);
  });

  it('is continuous across the near-integer switch and the 1/2 branch point', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.integer({ min: -2, max: 3 }),
        fc.double({ min: 0.51, max: 0.98, noNaN: true }),
        (a, b, m, z) => {
          const c = a + b + m; // d = c - a - b = m exactly, and just beside it
          if (c <= 0.1) return;
          const at = hyp2f1(a, b, c, z);
          const beside = hyp2f1(a, b, c + 1.2e-3, z);
          expect(Number.isFinite(at)).toBe(true);
          expect(rel(at, beside)).toBeLessThan(0.05);
          // the Gauss series at z <= 1/2 and the transformation just above agree in the limit
          const lo = hyp2f1(a, b, c, 0.5);
          const hi = hyp2f1(a, b, c, 0.5000001);
          expect(rel(lo, hi)).toBeLessThan(1e-4);
        },
      ),
      { numRuns: runs(200) },
    );
  });
});
