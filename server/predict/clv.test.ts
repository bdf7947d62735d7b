/**
 * CLV against the lifetimes Quickstart (CDNOW, BG/NBD in weeks, Gamma-Gamma; its
 * customer_lifetime_value(time=12, discount_rate=0.01) with the default freq "D" steps 30 units at a
 * time, so on weekly summaries it sums twelve 30-week periods: customers 1, 2, 6 and 9 print 140.096211,
 * 18.943467, 1003.868107 and 167.418216).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from '../../test/helpers/property.js';
import { conditionalExpected, fitBgNbd, pAlive } from './bgnbd.js';
import { cdnowSummaries } from './cdnow-fixture.js';
import { clv, viewerValue } from './clv.js';
import { expectedOrderValue, fitGammaGamma } from './gammagamma.js';

const rows = cdnowSummaries();
const bg = fitBgNbd(rows);
const gg = fitGammaGamma(rows);
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('clv', () => {
  it("reproduces lifetimes' discounted sum on CDNOW", () => {
    const opts = { horizon: 360, period: 30, discountRatePerPeriod: 0.01 };
    const expected: [number, number][] = [
      [0, 140.096211],
      [1, 18.943467],
      [2, 38.180574],
      [5, 1003.868107],
      [6, 28.109683],
      [8, 167.418216],
    ];
    for (const [i, v] of expected) expect(rel(clv(bg, gg, rows[i], opts), v)).toBeLessThan(1e-5);
  });

  it('without discounting is expected order value times expected orders', () => {
    const c = rows[0];
    const v = clv(bg, gg, c, { horizon: 52 });
    expect(v).toBeCloseTo(expectedOrderValue(gg, c.x, c.zbar) * conditionalExpected(bg, 52, c.x, c.t_x, c.T), 12);
    expect(clv(bg, gg, c, { horizon: 0 })).toBe(0);
  });

  it('discounting lowers the value, more at higher rates; periods sum to the whole', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: rows.length - 1 }),
        fc.double({ min: 1, max: 200, noNaN: true }),
        fc.double({ min: 0.001, max: 0.2, noNaN: true }),
        (i, horizon, rate) => {
          const c = rows[i];
          const flat = clv(bg, gg, c, { horizon });
          const low = clv(bg, gg, c, { horizon, period: 4, discountRatePerPeriod: rate });
          const high = clv(bg, gg, c, { horizon, period: 4, discountRatePerPeriod: rate * 2 });
          expect(low).toBeLessThanOrEqual(flat * (1 + 1e-12));
          expect(high).toBeLessThanOrEqual(low * (1 + 1e-12));
          expect(low).toBeGreaterThan(flat / Math.pow(1 + rate, horizon / 4 + 1));
          // a rate of (nearly) 0 per period gives the undiscounted value period by period
          const tiny = clv(bg, gg, c, { horizon, period: 4, discountRatePerPeriod: 1e-15 });
          expect(rel(tiny, flat)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: runs(100) },
    );
  });

  it('rejects invalid options', () => {
    const c = rows[0];
    expect(() => clv(bg, gg, c, { horizon: -1 })).toThrow(RangeError);
    expect(() => clv(bg, gg, c, { horizon: 10, period: 0, discountRatePerPeriod: 0.1 })).toThrow(RangeError);
    expect(() => clv(bg, gg, c, { horizon: 1e9, period: 1, discountRatePerPeriod: 0.1 })).toThrow(RangeError);
  });
});

describe('viewerValue', () => {
  it('gives the same numbers from weekly and daily summaries', () => {
    const bgDays = { ...bg, alpha: bg.alpha * 7 };
    for (const c of rows.slice(0, 20)) {
      const weeks = viewerValue(bg, gg, c, 'week');
      const days = viewerValue(bgDays, gg, { ...c, t_x: c.t_x * 7, T: c.T * 7 }, 'day');
      expect(rel(days.pAlive, weeks.pAlive)).toBeLessThan(1e-12);
      expect(rel(days.expectedOrders90d, weeks.expectedOrders90d)).toBeLessThan(1e-11);
      expect(rel(days.expectedOrderValue, weeks.expectedOrderValue)).toBeLessThan(1e-12);
      expect(rel(days.clv365d, weeks.clv365d)).toBeLessThan(1e-11);
    }
  });

  it('is made of the model functions over 90 and 365 days', () => {
    const c = rows[0];
    const v = viewerValue(bg, gg, c, 'week', { monthlyDiscountRate: 0 });
    expect(v.pAlive).toBe(pAlive(bg, c.x, c.t_x, c.T));
    expect(v.expectedOrders90d).toBe(conditionalExpected(bg, 90 / 7, c.x, c.t_x, c.T));
    expect(v.expectedOrderValue).toBe(expectedOrderValue(gg, c.x, c.zbar));
    expect(v.clv365d).toBeCloseTo(v.expectedOrderValue * conditionalExpected(bg, 365 / 7, c.x, c.t_x, c.T), 10);
    const discounted = viewerValue(bg, gg, c, 'week');
    expect(discounted.clv365d).toBeLessThan(v.clv365d);
    expect(discounted.clv365d).toBeGreaterThan(v.clv365d / 1.01 ** 12);
  });

  it('a one-time buyer gets the population mean order value', () => {
    const v = viewerValue(bg, gg, { x: 0, t_x: 0, T: 38.86, zbar: 0 }, 'week');
    expect(v.pAlive).toBe(1);
    expect(v.expectedOrderValue).toBeCloseTo((gg.p * gg.v) / (gg.q - 1), 12);
    expect(v.clv365d).toBeGreaterThan(0);
  });
});
