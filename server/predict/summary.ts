/**
 * Calibration summaries {x, t_x, T, zbar} from raw purchases, the inputs of the BG/NBD and
 * Gamma-Gamma models, with the literature's conventions (Fader, Hardie & Lee 2005; the lifetimes
 * library's summary_data_from_transaction_data):
 * - time is counted in whole UTC days: several orders of one customer on one day are one purchase,
 *   their amounts summed;
 * - x is the number of purchase days after the first; t_x the days from the first purchase day to the
 *   last; T the days from the first purchase day to the calibration end's day; in weeks, days / 7;
 * - zbar is the mean amount of the repeat purchase days (the first purchase is excluded, as the
 *   Gamma-Gamma model describes repeat spend), 0 when x = 0;
 * - the calibration end includes its whole UTC day; purchases after it, and customers whose first
 *   purchase is after it, are left out.
 * Exact integer day arithmetic, no clock: the caller passes the calibration end.
 */

export type TimeUnit = 'day' | 'week';

/** days per time unit */
export const DAYS_PER_UNIT: Record<TimeUnit, number> = { day: 1, week: 7 };

const DAY_MS = 86_400_000;

export interface Purchase {
  customerId: string;
  /** epoch milliseconds */
  at: number;
  amount: number;
}

export interface CustomerSummaryRow {
  customerId: string;
  x: number;
  t_x: number;
  T: number;
  zbar: number;
  /** UTC day (days since the epoch) of the first purchase */
  firstDay: number;
  /** total amount over the calibration period, first purchase included */
  total: number;
}

/** The UTC day number (days since 1970-01-01) of an epoch-millisecond time. */
export const utcDay = (ms: number): number => Math.floor(ms / DAY_MS);

/**
 * One row per customer with a purchase on or before the calibration end's day, sorted by customerId.
 * Purchases with a non-finite time or amount throw a RangeError (they would silently skew x).
 */
export function summarize(purchases: Iterable<Purchase>, calibrationEnd: number, unit: TimeUnit): CustomerSummaryRow[] {
  const perUnit = DAYS_PER_UNIT[unit];
  if (perUnit === undefined) throw new RangeError(`unknown time unit ${String(unit)}`);
  if (!Number.isFinite(calibrationEnd)) throw new RangeError('calibrationEnd must be a finite epoch-ms time');
  const endDay = utcDay(calibrationEnd);
  const days = new Map<string, Map<number, number>>();
  for (const p of purchases) {
    if (!Number.isFinite(p.at) || !Number.isFinite(p.amount)) {
      throw new RangeError(`purchase of ${p.customerId} has a non-finite time or amount`);
    }
    const day = utcDay(p.at);
    if (day > endDay) continue;
    let byDay = days.get(p.customerId);
    if (!byDay) {
      byDay = new Map();
      days.set(p.customerId, byDay);
    }
    byDay.set(day, (byDay.get(day) ?? 0) + p.amount);
  }
  const out: CustomerSummaryRow[] = [];
  for (const [customerId, byDay] of days) {
    const sorted = [...byDay.keys()].sort((a, b) => a - b);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    let total = 0;
    let repeat = 0;
    for (const d of sorted) {
      const amt = byDay.get(d)!;
      total += amt;
      if (d !== first) repeat += amt;
    }
    const x = sorted.length - 1;
    out.push({
      customerId,
      x,
      t_x: (last - first) / perUnit,
      T: (endDay - first) / perUnit,
      zbar: x > 0 ? repeat / x : 0,
      firstDay: first,
      total,
    });
  }
  out.sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
  return out;
}
