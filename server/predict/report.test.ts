/**
 * The predict report: the holdout table's buckets and totals, the per-customer rows and their CSV,
 * the Gamma-Gamma fallback, and the data the models refuse. CDNOW end to end (the published
 * parameters and holdout table) is test/integration/predict-cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { conditionalExpected, pAlive } from './bgnbd.js';
import {
  CUSTOMER_CSV_HEADER,
  customerCsvRow,
  formatReport,
  holdoutTable,
  MIN_REPEAT_BUYERS,
  predict,
  PredictError,
  reportJson,
  type CustomerPrediction,
} from './report.js';
import { seededRandom } from './rng.js';
import { parseIsoDay, PurchaseLog } from './transactions.js';

const day = (iso: string): number => parseIsoDay(iso)!;

describe('holdoutTable', () => {
  it('sums actual and expected by calibration x, gathering x >= 7 in "7+", and in total', () => {
    const t = holdoutTable([
      { x: 0, actualHoldout: 1, expectedHoldout: 0.5 },
      { x: 0, actualHoldout: 0, expectedHoldout: 0.25 },
      { x: 2, actualHoldout: 3, expectedHoldout: 1.5 },
      { x: 7, actualHoldout: 4, expectedHoldout: 5 },
      { x: 31, actualHoldout: 10, expectedHoldout: 12 },
    ]);
    expect(t.rows.map((r) => r.x)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    expect(t.rows[0]).toEqual({ x: '0', customers: 2, actual: 1, expected: 0.75 });
    expect(t.rows[1]).toEqual({ x: '1', customers: 0, actual: 0, expected: 0 });
    expect(t.rows[2]).toEqual({ x: '2', customers: 1, actual: 3, expected: 1.5 });
    expect(t.rows[7]).toEqual({ x: '7+', customers: 2, actual: 14, expected: 17 });
    expect(t.total).toEqual({ x: 'total', customers: 5, actual: 18, expected: 19.25 });
  });

  it('takes another top bucket, and counts customers without holdout numbers as 0', () => {
    const t = holdoutTable(
      [
        { x: 1, actualHoldout: null, expectedHoldout: null },
        { x: 5, actualHoldout: 2, expectedHoldout: 1 },
      ],
      3,
    );
    expect(t.rows.map((r) => [r.x, r.customers, r.actual])).toEqual([
      ['0', 0, 0],
      ['1', 1, 0],
      ['2', 0, 0],
      ['3+', 1, 2],
    ]);
    expect(t.total.customers).toBe(2);
  });
});

/**
 * A shop of 300 simulated customers (BG/NBD's story: Poisson purchases at a rate of their own, a
 * chance to leave after each; first purchases in January 2024, days to 2024-08-31), plus a, b and
 * late whose rows the tests check by hand. With `freeRepeats`, the simulated customers' repeat
 * orders cost 0, leaving Gamma-Gamma only a and its like.
 */
function shop(freeRepeats = false): PurchaseLog {
  const random = seededRandom(15);
  const log = new PurchaseLog();
  const start = day('2024-01-01');
  const last = day('2024-08-31');
  for (let i = 0; i < 300; i++) {
    const rate = [0.005, 0.02, 0.05, 0.1, 0.2][i % 5]; // purchases per day
    const leave = [0.1, 0.3, 0.6][i % 3];
    const mean = 15 + (i % 11) * 5;
    let t = start + Math.floor(random() * 31);
    let repeat = false;
    for (;;) {
      log.add(`s${String(i).padStart(3, '0')}`, Math.floor(t), freeRepeats && repeat ? 0 : mean * (0.6 + 0.8 * random()));
      if (repeat && random() < leave) break;
      t += -Math.log(1 - random()) / rate;
      if (t > last + 1) break;
      repeat = true;
    }
  }
  const add = (id: string, iso: string, amount: number) => log.add(id, day(iso), amount);
  add('a', '2024-01-01', 10);
  add('a', '2024-02-01', 20);
  add('a', '2024-02-01', 5); // same day: one purchase of 25
  add('a', '2024-07-10', 8); // holdout
  add('a', '2024-07-10', 8); // holdout, same day
  add('a', '2024-09-01', 9); // after the holdout end: ignored
  add('b', '2024-01-15', 30);
  add('b', '2024-07-01', 4); // the day after the calibration end: holdout
  add('late', '2024-07-05', 99); // first purchase after the calibration end: left out
  return log;
}

describe('predict', () => {
  const opts = { calibrationEndDay: day('2024-06-30'), holdoutEndDay: day('2024-08-31'), unit: 'day' as const };
  const p = predict(shop(), opts);
  const byId = new Map(p.customers.map((c) => [c.customerId, c]));

  it('one row per customer who bought by the calibration end, with the models\' numbers', () => {
    expect(p.customers).toHaveLength(302);
    expect(p.data.customers).toBe(303);
    expect(p.data.laterCustomers).toBe(1);
    expect(byId.has('late')).toBe(false);
    expect(p.customers.map((c) => c.customerId)).toEqual(p.customers.map((c) => c.customerId).sort());
    expect(p.bgnbd.converged).toBe(true);
    const a = byId.get('a')!;
    expect(a).toMatchObject({ x: 1, t_x: 31, T: 181, actualHoldout: 1 });
    expect(a.pAlive).toBe(pAlive(p.bgnbd, 1, 31, 181));
    expect(a.expectedHoldout).toBe(conditionalExpected(p.bgnbd, 62, 1, 31, 181));
    expect(byId.get('b')).toMatchObject({ x: 0, t_x: 0, T: 167, pAlive: 1, actualHoldout: 1 });
    expect(p.holdout).toMatchObject({ start: '2024-07-01', end: '2024-08-31', length: 62 });
    const actual = p.customers.reduce((n, c) => n + c.actualHoldout!, 0);
    expect(p.holdout!.table.total).toMatchObject({ customers: 302, actual });
    expect(p.warnings).toEqual([]);
  });

  it('fits Gamma-Gamma on the repeat buyers: a new customer is worth its population mean, clv is value x expected purchases', () => {
    expect(p.spend.fitted).toBe(true);
    if (!p.spend.fitted) return;
    expect(p.spend.fit.customers).toBe(p.customers.filter((c) => c.x > 0).length);
    const b = byId.get('b')!;
    expect(b.expectedOrderValue).toBeCloseTo(p.spend.newCustomerOrderValue, 10);
    for (const c of [b, byId.get('a')!]) {
      expect(c.clv).toBeCloseTo(c.expectedOrderValue * conditionalExpected(p.bgnbd, 365, c.x, c.t_x, c.T), 8);
    }
    expect(formatReport(p)).toMatch(/Gamma-Gamma \(\d+ repeat buyers\):\n {2}p = /);
    expect(JSON.parse(JSON.stringify(reportJson(p)))).toMatchObject({ gammaGamma: { fitted: true }, holdout: { end: '2024-08-31', length: 62 } });
  });

  it(`falls back to the average purchase-day amount with fewer than ${MIN_REPEAT_BUYERS} repeat buyers who spent`, () => {
    const log = shop(true);
    const free = predict(log, opts);
    expect(free.spend.fitted).toBe(false);
    if (free.spend.fitted) return;
    // only a's repeat purchase cost anything
    expect(free.spend.reason).toMatch(new RegExp(`^1 repeat buyer with a positive spend .* needs ${MIN_REPEAT_BUYERS}$`));
    let amount = 0;
    let days = 0;
    for (const c of free.customers) {
      for (const [d, v] of log.days(c.customerId)!) {
        if (d > opts.calibrationEndDay) continue;
        amount += v;
        days++;
      }
    }
    expect(free.spend.averageOrderValue).toBeCloseTo(amount / days, 10);
    for (const c of free.customers) {
      expect(c.expectedOrderValue).toBe(free.spend.averageOrderValue);
      expect(c.clv).toBeCloseTo(c.expectedOrderValue * conditionalExpected(free.bgnbd, 365, c.x, c.t_x, c.T), 8);
    }
    expect(formatReport(free)).toMatch(/Gamma-Gamma could not be fitted: 1 repeat buyer with a positive spend/);
  });

  it('without a holdout: no holdout numbers; in weeks, times are days / 7', () => {
    const weeks = predict(shop(), { calibrationEndDay: day('2024-06-30'), unit: 'week' });
    expect(weeks.holdout).toBeNull();
    expect(weeks.customers.find((c) => c.customerId === 'a')).toMatchObject({ t_x: 31 / 7, T: 181 / 7, expectedHoldout: null, actualHoldout: null });
    expect(formatReport(weeks)).not.toMatch(/holdout/);
    // the model does not depend on the unit: alpha scales with it, the shape parameters do not
    expect(weeks.bgnbd.alpha * 7).toBeCloseTo(p.bgnbd.alpha, 4);
    expect(weeks.bgnbd.r).toBeCloseTo(p.bgnbd.r, 6);
  });

  it('warns when the file ends before the holdout does', () => {
    const late = predict(shop(), { ...opts, holdoutEndDay: day('2024-12-31') });
    expect(late.warnings).toEqual([expect.stringMatching(/last purchase is on 2024-09-\d\d, before the holdout end 2024-12-31/)]);
  });

  it('refuses data the models cannot be fitted on', () => {
    expect(() => predict(shop(), { ...opts, calibrationEndDay: day('2023-12-31') })).toThrow(PredictError);
    expect(() => predict(shop(), { ...opts, calibrationEndDay: day('2023-12-31') })).toThrow(
      /no customer bought on or before the calibration end 2023-12-31 \(the first purchase is on 2024-01-01\)/,
    );
    const once = new PurchaseLog();
    once.add('a', day('2024-01-01'), 1);
    once.add('b', day('2024-01-02'), 1);
    expect(() => predict(once, opts)).toThrow(/no customer made a repeat purchase/);
    expect(() => predict(shop(), { ...opts, holdoutEndDay: opts.calibrationEndDay })).toThrow(/must be after the calibration end/);
  });
});

describe('customer CSV rows', () => {
  const row: CustomerPrediction = {
    customerId: 'a',
    x: 2,
    t_x: 30.428571428571427,
    T: 38.857142857142854,
    pAlive: 0.72662030479,
    expectedHoldout: 1.2259944331,
    actualHoldout: 1,
    expectedOrderValue: 24.653918706,
    clv: 38.514097161,
  };

  it('has the documented header and one value per column, 10 significant digits', () => {
    expect(CUSTOMER_CSV_HEADER).toBe('customer_id,x,t_x,T,p_alive,expected_holdout,actual_holdout,expected_order_value,clv');
    expect(customerCsvRow(row)).toBe('a,2,30.42857143,38.85714286,0.7266203048,1.225994433,1,24.65391871,38.51409716');
  });

  it('leaves the holdout columns empty without a holdout, and quotes ids that need it', () => {
    const fields = customerCsvRow({ ...row, customerId: 'Smith, "J"', expectedHoldout: null, actualHoldout: null });
    expect(fields).toMatch(/^"Smith, ""J""",2,30.42857143,38.85714286,0.7266203048,,,24.65/);
    expect(customerCsvRow({ ...row, customerId: ' padded' }).startsWith('" padded",')).toBe(true);
  });
});
