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

/** one campaign's arms, a stratum of a pooled uplift */
export interface Stratum {
  treated: Arm;
  control: Arm;
}

/**
 * The uplift of several campaigns pooled (a stream's, say), stratified by campaign: the
 * Mantel–Haenszel-weighted mean of each campaign's treated − control difference (weight
 * n₁n₀ ÷ (n₁ + n₀)), with the 95% interval of that weighted mean (each campaign's unpooled Wald
 * variance, as `uplift`). Adding the arms up instead would mix campaigns with different holdout
 * shares and base rates, and could even reverse the sign (Simpson's paradox). Campaigns without a
 * viewer in both arms carry no weight; `campaigns` counts those that do. With one campaign it is
 * that campaign's `uplift`.
 */
export function pooledUplift(strata: Stratum[]): Uplift & { campaigns: number } {
  const used = strata.filter((s) => s.treated.n > 0 && s.control.n > 0);
  const sum = (arm: 'treated' | 'control', k: keyof Arm) => used.reduce((a, s) => a + s[arm][k], 0);
  const base = {
    n: { treated: sum('treated', 'n'), control: sum('control', 'n') },
    conversions: { treated: sum('treated', 'conversions'), control: sum('control', 'conversions') },
    campaigns: used.length,
  };
  if (!used.length) return { absolute: null, ci95: null, ...base, enoughData: false };
  let weights = 0;
  let weighted = 0;
  let variance = 0;
  for (const { treated: t, control: c } of used) {
    const p1 = t.conversions / t.n;
    const p2 = c.conversions / c.n;
    const w = (t.n * c.n) / (t.n + c.n);
    weights += w;
    weighted += w * (p1 - p2);
    variance += w * w * ((p1 * (1 - p1)) / t.n + (p2 * (1 - p2)) / c.n);
  }
  const diff = weighted / weights;
  const se = Math.sqrt(variance) / weights;
  const cells = [base.conversions.treated, base.n.treated - base.conversions.treated, base.conversions.control, base.n.control - base.conversions.control];
  return {
    absolute: round4(diff),
    ci95: [round4(diff - Z95 * se), round4(diff + Z95 * se)],
    ...base,
    enoughData: base.n.treated >= MIN_ARM && base.n.control >= MIN_ARM && cells.every((x) => x >= MIN_CELL),
  };
}
