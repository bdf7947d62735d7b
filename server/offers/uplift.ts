/**
 * Measured uplift: treated conversion − control conversion with a 95% confidence interval
 * (two-proportion, unpooled Wald). Pure code.
 */

export interface Arm {
  /** viewers in the arm */
  n: number;
  /** of those, how many converted */
  conversions: number;
}

export interface Uplift {
  /** treated − control conversion, null while an arm is empty */
  absolute: number | null;
  /** [low, high], null while an arm is empty */
  ci95: [number, number] | null;
  n: { treated: number; control: number };
  conversions: { treated: number; control: number };
  /** false while the sample is too small for the interval to mean much (see `MIN_ARM`, `MIN_CELL`) */
  enoughData: boolean;
}

/** below this many viewers in an arm the interval is not trusted */
export const MIN_ARM = 30;
/** the normal approximation wants at least this many conversions and non-conversions per arm */
export const MIN_CELL = 5;
const Z95 = 1.959964;

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Conversion rate of an arm, rounded to 4 decimals; null when the arm is empty. */
export function rate(a: Arm): number | null {
  return a.n > 0 ? round4(a.conversions / a.n) : null;
}

export function uplift(treated: Arm, control: Arm): Uplift {
  const base = {
    n: { treated: treated.n, control: control.n },
    conversions: { treated: treated.conversions, control: control.conversions },
  };
  if (treated.n === 0 || control.n === 0) return { absolute: null, ci95: null, ...base, enoughData: false };
  const p1 = treated.conversions / treated.n;
  const p2 = control.conversions / control.n;
  const diff = p1 - p2;
  const se = Math.sqrt((p1 * (1 - p1)) / treated.n + (p2 * (1 - p2)) / control.n);
  const cells = [treated.conversions, treated.n - treated.conversions, control.conversions, control.n - control.conversions];
  const enoughData = treated.n >= MIN_ARM && control.n >= MIN_ARM && cells.every((c) => c >= MIN_CELL);
  return {
    absolute: round4(diff),
    ci95: [round4(diff - Z95 * se), round4(diff + Z95 * se)],
    ...base,
    enoughData,
  };
}
