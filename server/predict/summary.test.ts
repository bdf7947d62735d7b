/**
 * Calibration summaries from raw purchases, checked against the CDNOW summary the lifetimes library
 * ships (cdnow_customers_summary_with_transactions.csv: weeks, 2 decimals), built from CDNOW_sample.txt
 * with calibration end 1997-09-30.
 */
import { describe, expect, it } from 'vitest';
import { cdnowSamplePurchases, cdnowSummaries } from './cdnow-fixture.js';
import { summarize, utcDay, type Purchase } from './summary.js';

describe('summarize on the CDNOW sample', () => {
  const purchases: Purchase[] = cdnowSamplePurchases().map((p) => ({
    customerId: p.sampleId,
    at: p.at,
    amount: p.dollars,
  }));
  const ours = summarize(purchases, Date.UTC(1997, 8, 30), 'week');
  const theirs = cdnowSummaries();

  it('reproduces x, t_x, T and zbar of all 2357 customers (within the file\'s rounding)', () => {
    expect(ours).toHaveLength(2357);
    const byId = new Map(ours.map((r) => [Number(r.customerId), r]));
    let mismatches = 0;
    for (const t of theirs) {
      const o = byId.get(Number(t.id));
      expect(o, `customer ${t.id}`).toBeDefined();
      const ok =
        o!.x === t.x &&
        Math.abs(o!.t_x - t.t_x) <= 0.005 + 1e-9 &&
        Math.abs(o!.T - t.T) <= 0.005 + 1e-9 &&
        Math.abs(o!.zbar - t.zbar) <= 0.005 + 1e-6;
      if (!ok) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('in days, T is whole days from the first purchase to the end day', () => {
    const days = summarize(purchases, Date.UTC(1997, 8, 30, 23, 59), 'day');
    const first = days.find((r) => r.customerId === '0001')!;
    // 0001 bought on 1997-01-01, 01-18 and 08-02 (and 12-12, after the calibration end)
    expect(first).toMatchObject({ x: 2, t_x: 213, T: 272 });
    expect(first.zbar).toBeCloseTo((29.73 + 14.96) / 2, 12);
    expect(first.total).toBeCloseTo(29.33 + 29.73 + 14.96, 12);
  });
});

describe('summarize conventions', () => {
  const at = (day: number, hour = 12): number => Date.UTC(2024, 0, 1 + day, hour);
  const end = at(30, 0);

  it('counts several orders on one UTC day as one purchase, amounts summed', () => {
    const rows = summarize(
      [
        { customerId: 'a', at: at(0, 1), amount: 10 },
        { customerId: 'a', at: at(0, 23), amount: 5 },
        { customerId: 'a', at: at(3, 0), amount: 7 },
        { customerId: 'a', at: at(3, 22), amount: 3 },
        { customerId: 'a', at: at(10), amount: 20 },
      ],
      end,
      'day',
    );
    expect(rows).toEqual([{ customerId: 'a', x: 2, t_x: 10, T: 30, zbar: 15, firstDay: utcDay(at(0)), total: 45 }]);
  });

  it('a one-time buyer has x = 0, t_x = 0 and zbar = 0', () => {
    const [r] = summarize([{ customerId: 'b', at: at(5), amount: 12 }], end, 'week');
    expect(r).toMatchObject({ x: 0, t_x: 0, T: 25 / 7, zbar: 0, total: 12 });
  });

  it('includes the whole calibration end day and nothing after it', () => {
    const rows = summarize(
      [
        { customerId: 'c', at: at(1), amount: 1 },
        { customerId: 'c', at: at(30, 23), amount: 2 }, // on the end day: included
        { customerId: 'c', at: at(31, 0), amount: 4 }, // the day after: left out
        { customerId: 'd', at: at(31, 1), amount: 8 }, // first purchase after the end: no row
      ],
      end,
      'day',
    );
    expect(rows).toEqual([{ customerId: 'c', x: 1, t_x: 29, T: 29, zbar: 2, firstDay: utcDay(at(1)), total: 3 }]);
  });

  it('sorts by customer and accepts purchases in any order', () => {
    const ps: Purchase[] = [
      { customerId: 'z', at: at(9), amount: 1 },
      { customerId: 'm', at: at(4), amount: 1 },
      { customerId: 'z', at: at(2), amount: 1 },
    ];
    const rows = summarize(ps, end, 'day');
    expect(rows.map((r) => r.customerId)).toEqual(['m', 'z']);
    expect(rows[1]).toMatchObject({ x: 1, t_x: 7, T: 28 });
    expect(summarize([...ps].reverse(), end, 'day')).toEqual(rows);
  });

  it('rejects non-finite times and amounts', () => {
    expect(() => summarize([{ customerId: 'e', at: NaN, amount: 1 }], end, 'day')).toThrow(RangeError);
    expect(() => summarize([{ customerId: 'e', at: at(1), amount: Infinity }], end, 'day')).toThrow(RangeError);
    expect(() => summarize([], NaN, 'day')).toThrow(RangeError);
  });

  it('day boundaries are UTC', () => {
    expect(utcDay(Date.UTC(2024, 0, 1, 23, 59, 59, 999))).toBe(utcDay(Date.UTC(2024, 0, 1)));
    expect(utcDay(Date.UTC(2024, 0, 2))).toBe(utcDay(Date.UTC(2024, 0, 1)) + 1);
    expect(utcDay(-1)).toBe(-1);
  });
});
