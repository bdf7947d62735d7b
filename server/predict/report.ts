/**
 * What `livetier predict` computes from a transaction file, and how it is printed: the BG/NBD fit
 * (./bgnbd.ts) on the calibration period's summaries (./summary.ts), the Gamma-Gamma spend model
 * (./gammagamma.ts) on the repeat buyers, each customer's P(alive), expected purchases and value,
 * and, given a holdout period, the check Fader, Hardie & Lee (2005) publish for BG/NBD: repeat
 * purchases predicted for the holdout against the actual ones, by the number of repeat purchases in
 * the calibration period (0, 1, …, 7+) and in total. Pure: the caller reads the file and writes.
 *
 * Value: a customer's CLV here is the expected value of their purchases in the 365 days after the
 * calibration end, undiscounted: E[purchases in 365 days] (BG/NBD) × expected order value
 * (Gamma-Gamma's conditional mean; ./clv.ts with a zero discount rate). When Gamma-Gamma cannot be
 * fitted (fewer than MIN_REPEAT_BUYERS repeat buyers with a positive spend, or no convergence), the
 * expected order value of every customer is the average amount of a purchase day in the
 * calibration period instead, and the report says so.
 */
import { conditionalExpected, fitBgNbd, pAlive, type BgNbdFit } from './bgnbd.js';
import { clv } from './clv.js';
import { expectedOrderValue, fitGammaGamma, populationMeanSpend, type GammaGammaFit } from './gammagamma.js';
import { DAYS_PER_UNIT, summarize, type TimeUnit } from './summary.js';
import { isoDay, type PurchaseLog } from './transactions.js';

/** the CLV horizon, in days after the calibration end */
export const CLV_HORIZON_DAYS = 365;
/** repeat buyers with a positive spend that Gamma-Gamma needs to be fitted at all */
export const MIN_REPEAT_BUYERS = 10;
/** the holdout table's last row gathers x >= HOLDOUT_TOP ("7+") */
export const HOLDOUT_TOP = 7;

const DAY_MS = 86_400_000;

/** Data the models cannot be fitted on (no customer before the calibration end, no repeat purchase). */
export class PredictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictError';
  }
}

export interface PredictOptions {
  /** the calibration period's last UTC day (days since 1970-01-01), included */
  calibrationEndDay: number;
  /** the holdout period's last UTC day, included; the holdout starts the day after the calibration end */
  holdoutEndDay?: number;
  unit: TimeUnit;
}

export type SpendModel =
  | { fitted: true; fit: GammaGammaFit; newCustomerOrderValue: number }
  | { fitted: false; reason: string; averageOrderValue: number };

export interface CustomerPrediction {
  customerId: string;
  x: number;
  t_x: number;
  T: number;
  pAlive: number;
  /** E[repeat purchases in the holdout period]; null without a holdout period */
  expectedHoldout: number | null;
  /** purchase days in the holdout period; null without a holdout period */
  actualHoldout: number | null;
  expectedOrderValue: number;
  clv: number;
}

export interface HoldoutRow {
  /** "0" … "6", "7+", or "total" */
  x: string;
  customers: number;
  actual: number;
  expected: number;
}

export interface HoldoutTable {
  rows: HoldoutRow[];
  total: HoldoutRow;
}

export interface Prediction {
  unit: TimeUnit;
  calibrationEnd: string;
  data: {
    transactions: number;
    purchaseDays: number;
    /** customers in the file */
    customers: number;
    /** customers whose first purchase is after the calibration end (left out) */
    laterCustomers: number;
    firstDate: string;
    lastDate: string;
  };
  bgnbd: BgNbdFit;
  spend: SpendModel;
  clv: { horizonDays: number; discountRate: number };
  holdout: { start: string; end: string; length: number; table: HoldoutTable } | null;
  /** one per customer with a purchase on or before the calibration end, by customer id */
  customers: CustomerPrediction[];
  warnings: string[];
}

/** Actual and expected holdout purchases summed by calibration x (0 … top-1, top+) and in total. */
export function holdoutTable(
  customers: Iterable<{ x: number; actualHoldout: number | null; expectedHoldout: number | null }>,
  top = HOLDOUT_TOP,
): HoldoutTable {
  const rows: HoldoutRow[] = Array.from({ length: top + 1 }, (_, i) => ({
    x: i < top ? String(i) : `${top}+`,
    customers: 0,
    actual: 0,
    expected: 0,
  }));
  const total: HoldoutRow = { x: 'total', customers: 0, actual: 0, expected: 0 };
  for (const c of customers) {
    const row = rows[Math.min(c.x, top)];
    for (const r of [row, total]) {
      r.customers++;
      r.actual += c.actualHoldout ?? 0;
      r.expected += c.expectedHoldout ?? 0;
    }
  }
  return { rows, total };
}

function fitSpend(rows: { x: number; zbar: number }[], averageOrderValue: number): SpendModel {
  const buyers = rows.filter((r) => r.x > 0 && r.zbar > 0).length;
  if (buyers < MIN_REPEAT_BUYERS) {
    return {
      fitted: false,
      reason: `${buyers} repeat buyer${buyers === 1 ? '' : 's'} with a positive spend in the calibration period; it needs ${MIN_REPEAT_BUYERS}`,
      averageOrderValue,
    };
  }
  let fit: GammaGammaFit;
  try {
    fit = fitGammaGamma(rows);
  } catch (err) {
    return { fitted: false, reason: (err as Error).message, averageOrderValue };
  }
  if (!fit.converged) {
    return { fitted: false, reason: `the fit did not converge (gradient ${fit.gradientNorm.toExponential(2)})`, averageOrderValue };
  }
  return { fitted: true, fit, newCustomerOrderValue: populationMeanSpend(fit) };
}

/** Fits the models on the calibration period and predicts every customer (see the file comment). */
export function predict(log: PurchaseLog, opts: PredictOptions): Prediction {
  const { unit, calibrationEndDay: endDay, holdoutEndDay } = opts;
  const perUnit = DAYS_PER_UNIT[unit];
  if (holdoutEndDay !== undefined && !(holdoutEndDay > endDay)) {
    throw new PredictError(`the holdout end ${isoDay(holdoutEndDay)} must be after the calibration end ${isoDay(endDay)}`);
  }
  const summaries = summarize(log.purchases(), endDay * DAY_MS, unit);
  if (summaries.length === 0) {
    throw new PredictError(`no customer bought on or before the calibration end ${isoDay(endDay)} (the first purchase is on ${isoDay(log.firstDay)})`);
  }
  if (!summaries.some((s) => s.x > 0)) {
    throw new PredictError(`no customer made a repeat purchase on or before the calibration end ${isoDay(endDay)}: BG/NBD cannot be fitted`);
  }
  const warnings: string[] = [];
  const bgnbd = fitBgNbd(summaries);
  if (!bgnbd.converged) warnings.push(`BG/NBD: the fit did not converge (gradient ${bgnbd.gradientNorm.toExponential(2)}); the parameters are the best found`);

  let amount = 0;
  let purchases = 0;
  for (const s of summaries) {
    amount += s.total;
    purchases += s.x + 1;
  }
  const spend = fitSpend(summaries, amount / purchases);

  const horizon = CLV_HORIZON_DAYS / perUnit;
  const holdoutLength = holdoutEndDay === undefined ? 0 : (holdoutEndDay - endDay) / perUnit;
  const customers: CustomerPrediction[] = summaries.map((s) => {
    const { x, t_x, T } = s;
    const expectedOrder = spend.fitted ? expectedOrderValue(spend.fit, x, s.zbar) : spend.averageOrderValue;
    return {
      customerId: s.customerId,
      x,
      t_x,
      T,
      pAlive: pAlive(bgnbd, x, t_x, T),
      expectedHoldout: holdoutEndDay === undefined ? null : conditionalExpected(bgnbd, holdoutLength, x, t_x, T),
      actualHoldout: holdoutEndDay === undefined ? null : log.purchasesBetween(s.customerId, endDay, holdoutEndDay),
      expectedOrderValue: expectedOrder,
      clv: spend.fitted ? clv(bgnbd, spend.fit, s, { horizon }) : expectedOrder * conditionalExpected(bgnbd, horizon, x, t_x, T),
    };
  });

  let holdout: Prediction['holdout'] = null;
  if (holdoutEndDay !== undefined) {
    holdout = { start: isoDay(endDay + 1), end: isoDay(holdoutEndDay), length: holdoutLength, table: holdoutTable(customers) };
    if (log.lastDay < holdoutEndDay) {
      warnings.push(`the file's last purchase is on ${isoDay(log.lastDay)}, before the holdout end ${isoDay(holdoutEndDay)}: the actual holdout purchases may be incomplete`);
    }
  }
  return {
    unit,
    calibrationEnd: isoDay(endDay),
    data: {
      transactions: log.transactions,
      purchaseDays: log.purchaseDays,
      customers: log.customers,
      laterCustomers: log.customers - summaries.length,
      firstDate: isoDay(log.firstDay),
      lastDate: isoDay(log.lastDay),
    },
    bgnbd,
    spend,
    clv: { horizonDays: CLV_HORIZON_DAYS, discountRate: 0 },
    holdout,
    customers,
    warnings,
  };
}

const sig = (v: number, digits = 6): string => String(Number(v.toPrecision(digits)));
const count = (v: number): string => v.toLocaleString('en');
const plural = (unit: TimeUnit, n: number): string => `${sig(n)} ${unit}${n === 1 ? '' : 's'}`;

/** The human-readable report: the data, the parameters, the holdout table (the warnings are the caller's to print). */
export function formatReport(p: Prediction): string {
  const d = p.data;
  const bg = p.bgnbd;
  const out: string[] = [];
  out.push(
    `${count(d.transactions)} transactions on ${count(d.purchaseDays)} customer-days (orders of one customer on one day are one purchase), ${d.firstDate} to ${d.lastDate}`,
  );
  out.push(
    `calibration: purchases through ${p.calibrationEnd} of ${count(p.customers.length)} customers` +
      (d.laterCustomers > 0 ? ` (${count(d.laterCustomers)} whose first purchase is later are left out)` : '') +
      `; time in ${p.unit}s`,
  );
  out.push('');
  out.push(`BG/NBD (${count(bg.customers)} customers, ${bg.converged ? 'converged' : 'NOT converged'}):`);
  out.push(`  r = ${sig(bg.r)}  alpha = ${sig(bg.alpha)}  a = ${sig(bg.a)}  b = ${sig(bg.b)}  log-likelihood = ${bg.logLikelihood.toFixed(2)}`);
  const s = p.spend;
  if (s.fitted) {
    out.push(`Gamma-Gamma (${count(s.fit.customers)} repeat buyers):`);
    out.push(`  p = ${sig(s.fit.p)}  q = ${sig(s.fit.q)}  v = ${sig(s.fit.v)}  log-likelihood = ${s.fit.logLikelihood.toFixed(2)}`);
    out.push(`  expected order value of a new customer: ${s.newCustomerOrderValue.toFixed(2)}`);
  } else {
    out.push(`Gamma-Gamma could not be fitted: ${s.reason}.`);
    out.push(`  expected order value: the average purchase-day amount, ${s.averageOrderValue.toFixed(2)}, for every customer`);
  }
  if (p.holdout) {
    const h = p.holdout;
    out.push('');
    out.push(`holdout ${h.start} to ${h.end} (${plural(p.unit, h.length)}): repeat purchases, actual vs expected, by repeat purchases in the calibration period`);
    const header = ['x', 'customers', 'actual', 'expected', 'actual/cust', 'expected/cust'];
    const body = [...h.table.rows, h.table.total].map((r) => [
      r.x,
      count(r.customers),
      count(r.actual),
      r.expected.toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
      r.customers > 0 ? (r.actual / r.customers).toFixed(3) : '-',
      r.customers > 0 ? (r.expected / r.customers).toFixed(3) : '-',
    ]);
    const widths = header.map((t, i) => Math.max(t.length, ...body.map((row) => row[i].length)));
    const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    out.push(line(header));
    for (const row of body) out.push(line(row));
  }
  out.push('');
  out.push(
    `clv: expected value of the ${p.clv.horizonDays} days after ${p.calibrationEnd}, undiscounted (expected purchases × expected order value)`,
  );
  return out.join('\n') + '\n';
}

/** The report as one JSON value (everything formatReport prints; the customers go to --out). */
export function reportJson(p: Prediction): Record<string, unknown> {
  const { r, alpha, a, b, logLikelihood, converged, iterations, customers } = p.bgnbd;
  const s = p.spend;
  return {
    unit: p.unit,
    calibrationEnd: p.calibrationEnd,
    data: { ...p.data, calibrationCustomers: p.customers.length },
    bgnbd: { r, alpha, a, b, logLikelihood, converged, iterations, customers },
    gammaGamma: s.fitted
      ? {
          fitted: true,
          p: s.fit.p,
          q: s.fit.q,
          v: s.fit.v,
          logLikelihood: s.fit.logLikelihood,
          converged: s.fit.converged,
          customers: s.fit.customers,
          newCustomerOrderValue: s.newCustomerOrderValue,
        }
      : { fitted: false, reason: s.reason, averageOrderValue: s.averageOrderValue },
    clv: p.clv,
    holdout: p.holdout,
    warnings: p.warnings,
  };
}

export const CUSTOMER_CSV_HEADER = 'customer_id,x,t_x,T,p_alive,expected_holdout,actual_holdout,expected_order_value,clv';

const csvField = (text: string): string => (/[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text);
const csvNumber = (v: number | null): string => (v === null ? '' : String(Number(v.toPrecision(10))));

/** One --out row (no line end); expected_holdout and actual_holdout are empty without a holdout. */
export function customerCsvRow(c: CustomerPrediction): string {
  return [
    csvField(c.customerId),
    String(c.x),
    csvNumber(c.t_x),
    csvNumber(c.T),
    csvNumber(c.pAlive),
    csvNumber(c.expectedHoldout),
    c.actualHoldout === null ? '' : String(c.actualHoldout),
    csvNumber(c.expectedOrderValue),
    csvNumber(c.clv),
  ].join(',');
}
