/**
 * Customer lifetime value from a BG/NBD purchase model (./bgnbd.ts) and a Gamma-Gamma spend model
 * (./gammagamma.ts), the combination of Fader, Hardie & Lee 2005b, computed as the discounted sum
 * the lifetimes library uses (its _customer_lifetime_value): the horizon is cut into periods of
 * length `period`; period k contributes
 *   E[spend | x, zbar] * (E[Y(t_k)] - E[Y(t_{k-1})]) / (1 + rate)^(t_k / period),   t_k = min(k period, horizon)
 * with E[Y(t)] the conditional expected purchases of ./bgnbd.ts (the last period may be partial,
 * discounted at its fractional exponent). With rate 0 the sum telescopes to
 * E[spend] * E[Y(horizon)] and is computed as that, with one evaluation.
 *
 * Assumes spend per order is independent of the purchase process (the Gamma-Gamma assumption), and
 * that the summaries and the horizon share one time unit. Numerical stability comes from the two
 * models; differences of the cumulative expectation are clamped at 0 against rounding.
 */
import { conditionalExpected, pAlive, type BgNbdParams } from './bgnbd.js';
import { expectedOrderValue, type GammaGammaParams } from './gammagamma.js';
import { DAYS_PER_UNIT, type TimeUnit } from './summary.js';

export interface ValueSummary {
  x: number;
  t_x: number;
  T: number;
  /** mean value of the repeat purchases (0 or anything when x = 0) */
  zbar: number;
}

export interface ClvOptions {
  /** horizon, in the summaries' time unit */
  horizon: number;
  /** discount rate per period (default 0: undiscounted) */
  discountRatePerPeriod?: number;
  /** length of one discounting period, in the summaries' time unit (default 1) */
  period?: number;
}

/** discounting periods allowed in one call: a daily period over 30 years, with room to spare */
const MAX_PERIODS = 20_000;

/** Expected (discounted) value of the customer's purchases over the horizon. */
export function clv(bgnbd: BgNbdParams, gg: GammaGammaParams, customer: ValueSummary, opts: ClvOptions): number {
  const { horizon } = opts;
  const rate = opts.discountRatePerPeriod ?? 0;
  const period = opts.period ?? 1;
  if (!(horizon >= 0 && Number.isFinite(horizon))) throw new RangeError(`horizon must be finite and >= 0, got ${horizon}`);
  if (!(rate > -1 && Number.isFinite(rate))) throw new RangeError(`discount rate must be finite and > -1, got ${rate}`);
  if (!(period > 0 && Number.isFinite(period))) throw new RangeError(`period must be finite and > 0, got ${period}`);
  const { x, t_x, T, zbar } = customer;
  const spend = expectedOrderValue(gg, x, x > 0 ? zbar : 0);
  if (horizon === 0) return 0;
  if (rate === 0) return spend * conditionalExpected(bgnbd, horizon, x, t_x, T);
  const steps = Math.ceil(horizon / period - 1e-12);
  if (steps > MAX_PERIODS) throw new RangeError(`horizon / period = ${steps} periods exceeds ${MAX_PERIODS}`);
  const logDiscount = Math.log1p(rate);
  let total = 0;
  let previous = 0;
  for (let k = 1; k <= steps; k++) {
    const tk = Math.min(k * period, horizon);
    const cumulative = conditionalExpected(bgnbd, tk, x, t_x, T);
    const inPeriod = Math.max(0, cumulative - previous);
    previous = cumulative;
    total += inPeriod * Math.exp(-(tk / period) * logDiscount);
  }
  return spend * total;
}

export interface ViewerValue {
  /** probability the viewer is still an active buyer at the end of the calibration period */
  pAlive: number;
  /** expected orders in the next 90 days */
  expectedOrders90d: number;
  /** expected value of one order (the Gamma-Gamma conditional mean) */
  expectedOrderValue: number;
  /** expected value of the next 365 days' orders, discounted monthly */
  clv365d: number;
}

export interface ViewerValueOptions {
  /** discount rate per month of 365/12 days (default 0.01, lifetimes' default) */
  monthlyDiscountRate?: number;
}

/**
 * The per-viewer numbers a dashboard shows, for summaries in `unit` (days or weeks). The 365-day
 * value is discounted over twelve months of 365/12 days each.
 */
export function viewerValue(
  bgnbd: BgNbdParams,
  gg: GammaGammaParams,
  customer: ValueSummary,
  unit: TimeUnit,
  opts: ViewerValueOptions = {},
): ViewerValue {
  const perUnit = DAYS_PER_UNIT[unit];
  if (perUnit === undefined) throw new RangeError(`unknown time unit ${String(unit)}`);
  const { x, t_x, T, zbar } = customer;
  return {
    pAlive: pAlive(bgnbd, x, t_x, T),
    expectedOrders90d: conditionalExpected(bgnbd, 90 / perUnit, x, t_x, T),
    expectedOrderValue: expectedOrderValue(gg, x, x > 0 ? zbar : 0),
    clv365d: clv(bgnbd, gg, customer, {
      horizon: 365 / perUnit,
      period: 365 / 12 / perUnit,
      discountRatePerPeriod: opts.monthlyDiscountRate ?? 0.01,
    }),
  };
}
