/**
 * The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005b, "RFM and CLV: Using
 * Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4); the likelihood
 * and conditional expectation as in Hardie's note 025, "The Gamma-Gamma Model of Monetary Value").
 *
 * A customer's transaction values are Gamma(shape p, rate nu) around their own mean p/nu, and
 * nu ~ Gamma(shape q, rate v) across customers. It is fitted on repeat buyers only (x > 0 repeat
 * transactions with mean value zbar > 0), assuming spend is independent of the purchase process:
 *   log L = sum lnGamma(px+q) - lnGamma(px) - lnGamma(q) + q ln v + (px-1) ln zbar + px ln x - (px+q) ln(x zbar + v).
 * E[spend | x, zbar] = (p (v + x zbar)) / (p x + q - 1), a weighted average of the population mean
 * p v / (q - 1) and the customer's own zbar; the population mean exists only for q > 1.
 *
 * Fit: L-BFGS (./optimize.ts) with the analytic gradient in log-parameters, amounts rescaled by their
 * mean while fitting (v is in the currency's unit, so cents and yen condition the same as dollars);
 * by default q is parameterised as 1 + e^theta so the fitted population mean always exists (the
 * lifetimes library's q_constraint, here on by default because a CLV needs the mean of a new buyer).
 * Three starts, the best optimum kept; identical (x, zbar) rows are merged with a count and the
 * gamma-function terms computed once per distinct x. The optional L2 penalty is
 * coef * (p^2 + q^2 + (v/mean zbar)^2) on the mean negative log-likelihood.
 */
import { minimizeFromStarts } from './optimize.js';
import { digamma, logGamma } from './special.js';

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

export interface SpendSummary {
  /** repeat transactions */
  x: number;
  /** mean value of the repeat transactions */
  zbar: number;
  count?: number;
}

export interface GammaGammaFit extends GammaGammaParams {
  /** total log-likelihood over the repeat buyers used */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  gradientNorm: number;
  /** repeat buyers used (rows with x > 0 and zbar > 0, counted) */
  customers: number;
  /** rows skipped because x = 0 or zbar <= 0 (counted) */
  skipped: number;
}

export interface GammaGammaFitOptions {
  penalizer?: number;
  /** keep q > 1 so the population mean spend exists (default true) */
  constrainQ?: boolean;
  maxIterations?: number;
  gradientTolerance?: number;
}

interface SpendData {
  x: Float64Array;
  m: Float64Array;
  w: Float64Array;
  groupStart: Int32Array;
  groupX: Float64Array;
  groupW: Float64Array;
  total: number;
}

function collect(rows: Iterable<SpendSummary>): { data: SpendData; skipped: number } {
  const byKey = new Map<string, { x: number; m: number; w: number }>();
  let skipped = 0;
  for (const r of rows) {
    const w = r.count ?? 1;
    if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`count must be finite and >= 0, got ${w}`);
    if (!(Number.isInteger(r.x) && r.x >= 0)) throw new RangeError(`x must be a non-negative integer, got ${r.x}`);
    if (!Number.isFinite(r.zbar)) throw new RangeError(`zbar must be finite, got ${r.zbar}`);
    if (r.x === 0 || !(r.zbar > 0)) {
      skipped += w;
      continue;
    }
    if (w === 0) continue;
    const key = `${r.x},${r.zbar}`;
    const e = byKey.get(key);
    if (e) e.w += w;
    else byKey.set(key, { x: r.x, m: r.zbar, w });
  }
  const list = [...byKey.values()].sort((a, b) => a.x - b.x || a.m - b.m);
  const n = list.length;
  const starts: number[] = [];
  const gx: number[] = [];
  const gw: number[] = [];
  const data: SpendData = {
    x: new Float64Array(n),
    m: new Float64Array(n),
    w: new Float64Array(n),
    groupStart: new Int32Array(0),
    groupX: new Float64Array(0),
    groupW: new Float64Array(0),
    total: 0,
  };
  for (let i = 0; i < n; i++) {
    const e = list[i];
    data.x[i] = e.x;
    data.m[i] = e.m;
    data.w[i] = e.w;
    data.total += e.w;
    if (i === 0 || e.x !== list[i - 1].x) {
      starts.push(i);
      gx.push(e.x);
      gw.push(0);
    }
    gw[gw.length - 1] += e.w;
  }
  starts.push(n);
  data.groupStart = Int32Array.from(starts);
  data.groupX = Float64Array.from(gx);
  data.groupW = Float64Array.from(gw);
  return { data, skipped };
}

function logLikelihoodAndGradient(d: SpendData, p: number, q: number, v: number, grad: Float64Array | null): number {
  let ll = 0;
  let gp = 0;
  let gq = 0;
  let gv = 0;
  const logV = Math.log(v);
  const lgq = logGamma(q);
  const psiq = grad ? digamma(q) : 0;
  for (let g = 0; g < d.groupX.length; g++) {
    const x = d.groupX[g];
    const W = d.groupW[g];
    const px = p * x;
    const logX = Math.log(x);
    ll += W * (logGamma(px + q) - logGamma(px) - lgq + q * logV + px * logX);
    let psiSum = 0;
    if (grad) {
      psiSum = digamma(px + q);
      gp += W * x * (psiSum - digamma(px) + logX);
      gq += W * (psiSum - psiq + logV);
      gv += (W * q) / v;
    }
    const end = d.groupStart[g + 1];
    for (let i = d.groupStart[g]; i < end; i++) {
      const w = d.w[i];
      const m = d.m[i];
      const logM = Math.log(m);
      const xmv = x * m + v;
      const logXmv = Math.log(xmv);
      ll += w * ((px - 1) * logM - (px + q) * logXmv);
      if (grad) {
        gp += w * x * (logM - logXmv);
        gq -= w * logXmv;
        gv -= (w * (px + q)) / xmv;
      }
    }
  }
  if (grad) {
    grad[0] = gp;
    grad[1] = gq;
    grad[2] = gv;
  }
  return ll;
}

function checkParams(params: GammaGammaParams): void {
  for (const k of ['p', 'q', 'v'] as const) {
    const val = params[k];
    if (!(val > 0) || !Number.isFinite(val)) throw new RangeError(`Gamma-Gamma parameter ${k} must be positive and finite, got ${val}`);
  }
}

/** Total log-likelihood over the repeat buyers among the rows (x = 0 or zbar <= 0 rows are ignored). */
export function gammaGammaLogLikelihood(params: GammaGammaParams, rows: Iterable<SpendSummary>): number {
  checkParams(params);
  return logLikelihoodAndGradient(collect(rows).data, params.p, params.q, params.v, null);
}

/** Fit the Gamma-Gamma spend model by maximum likelihood on the repeat buyers among the rows. */
export function fitGammaGamma(rows: Iterable<SpendSummary>, opts: GammaGammaFitOptions = {}): GammaGammaFit {
  const { data: raw, skipped } = collect(rows);
  if (raw.total === 0) throw new RangeError('fitGammaGamma needs at least one repeat buyer with zbar > 0');
  const penalizer = opts.penalizer ?? 0;
  if (!(penalizer >= 0)) throw new RangeError('penalizer must be >= 0');
  const constrainQ = opts.constrainQ ?? true;
  let mean = 0;
  for (let i = 0; i < raw.m.length; i++) mean += raw.w[i] * raw.m[i];
  mean /= raw.total;
  const d: SpendData = { ...raw, m: raw.m.map((m) => m / mean) };
  const W = raw.total;
  const grad = new Float64Array(3);
  const unpack = (theta: ArrayLike<number>): [number, number, number] => [
    Math.exp(theta[0]),
    constrainQ ? 1 + Math.exp(theta[1]) : Math.exp(theta[1]),
    Math.exp(theta[2]),
  ];
  const objective = (theta: Float64Array, g: Float64Array): number => {
    const [p, q, v] = unpack(theta);
    if (![p, q, v].every((t) => t > 0 && Number.isFinite(t))) return Infinity;
    const ll = logLikelihoodAndGradient(d, p, q, v, grad);
    // d/dtheta: p and v are exp(theta); q is exp(theta) or 1 + exp(theta), both with dq/dtheta = q or q - 1
    const dq = constrainQ ? q - 1 : q;
    g[0] = (-grad[0] * p) / W + 2 * penalizer * p * p;
    g[1] = (-grad[1] * dq) / W + 2 * penalizer * q * dq;
    g[2] = (-grad[2] * v) / W + 2 * penalizer * v * v;
    return -ll / W + penalizer * (p * p + q * q + v * v);
  };
  const qStart = (q: number): number => (constrainQ ? Math.log(q - 1) : Math.log(q));
  // starts on the rescaled amounts (mean 1): population mean p v / (q - 1) near 1 in each
  const starts = [
    [Math.log(1), qStart(2), Math.log(1)],
    [Math.log(5), qStart(4), Math.log(0.6)],
    [Math.log(0.5), qStart(1.5), Math.log(1)],
  ];
  const { best, iterations } = minimizeFromStarts(objective, starts, {
    maxIterations: opts.maxIterations ?? 500,
    gradientTolerance: opts.gradientTolerance ?? 1e-8,
    polishIterations: 3000,
    name: 'fitGammaGamma',
  });
  const [p, q, vScaled] = unpack(best.x);
  const v = vScaled * mean;
  return {
    p,
    q,
    v,
    logLikelihood: logLikelihoodAndGradient(raw, p, q, v, null),
    iterations,
    converged: best.converged,
    gradientNorm: best.gradientNorm,
    customers: W,
    skipped,
  };
}

/** Mean spend per transaction of a new customer, p v / (q - 1); throws if q <= 1 (it does not exist). */
export function populationMeanSpend(params: GammaGammaParams): number {
  checkParams(params);
  if (!(params.q > 1)) throw new RangeError(`the population mean spend needs q > 1, got q = ${params.q}`);
  return (params.p * params.v) / (params.q - 1);
}

/**
 * E[spend per transaction | x repeat transactions of mean zbar]; for x = 0 the population mean.
 * Throws a RangeError when the expectation does not exist (q <= 1 for x = 0, p x + q <= 1 else).
 */
export function expectedOrderValue(params: GammaGammaParams, x: number, zbar: number): number {
  checkParams(params);
  if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`x must be a non-negative integer, got ${x}`);
  if (x === 0) return populationMeanSpend(params);
  if (!Number.isFinite(zbar)) throw new RangeError(`zbar must be finite, got ${zbar}`);
  const { p, q, v } = params;
  const den = p * x + q - 1;
  if (!(den > 0)) throw new RangeError(`the conditional mean spend needs p x + q > 1, got ${p * x + q}`);
  return (p * (v + x * zbar)) / den;
}
