/**
 * The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
 * Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2); the likelihood as in
 * Hardie's note 004, P(alive) as in note 021).
 *
 * While alive, a customer buys as a Poisson process of rate lambda ~ Gamma(shape r, rate alpha); after
 * each repeat purchase they drop out with probability p ~ Beta(a, b). A customer is summarised by
 * x (repeat purchases), t_x (time of the last one since the first purchase) and T (time from the
 * first purchase to the end of the calibration period), all in one time unit (alpha is in it too).
 *
 * Fit: maximum likelihood by L-BFGS (./optimize.ts) with the analytic gradient, on the
 * log-parameters (so every parameter stays positive with no bounds), with time rescaled so that
 * max T = 1 while fitting (as the lifetimes library does: it conditions alpha, and makes the
 * penalizer coefficient mean the same as lifetimes' penalizer_coef: coef * (r^2 + alpha^2 + a^2 + b^2)
 * added to the mean negative log-likelihood, alpha in the rescaled unit). Three starting points are
 * tried and the best optimum is kept; a start L-BFGS cannot finish is polished by Nelder–Mead and
 * L-BFGS again. Identical (x, t_x, T) rows are merged with a count and the x-only terms (gamma
 * functions) are computed once per distinct x, so a million buyers cost about as much as their
 * distinct histories.
 *
 * Predictions: E[X(t)] and E[Y(t) | x, t_x, T] both reduce to one quantity, the expected purchases
 * in the next t of a customer who is alive, with lambda ~ Gamma(r', alpha') and p ~ Beta(a, b')
 * (r' = r + x, alpha' = alpha + T, b' = b + x; for E[X(t)], x = T = 0):
 *   M = E[(1 - exp(-lambda p t)) / p]
 *     = c/(a-1) * (1 - w^(a-1) 2F1(c - r', a - 1; c; z)),   c = a + b' - 1, z = t/(alpha'+t), w = 1 - z
 * (the paper's eq. 9/10, 2F1(r', b'; c; z), after Euler's transformation, which keeps the first two
 * parameters small however many purchases x there are). That closed form divides 0 by 0 at a = 1,
 * has a pole at c = 0 (both removable), and near z = 1 needs the 1 - z transformation, which
 * cancels catastrophically when r' - a + 1 is near an integer. So it is evaluated instead as
 *   M = c (-log w) expm1((a-1) log w)/((a-1) log w) - w^(a-1) S(z),
 *   S(z) = sum_{n>=1} (c-r')_n (a)_{n-1} z^n / ((c+1)_{n-1} n!)   (= c (2F1(c-r', a-1; c; z) - 1)/(a-1)),
 * where both singularities have cancelled analytically. S is summed directly for z <= 0.8 (terms
 * shrink like 0.8^n) and beyond while it finishes within 2,000 terms (many purchases make c large
 * and the series short); otherwise its value and slope at 0.8 are continued to z along the differential
 * equation S satisfies (that of 2F1 with a constant right-hand side; ./special.ts
 * continueHypergeometric, Taylor steps halving the distance to z = 1, ~60 terms each), which has no
 * special cases, so t / alpha' = 10^6 costs about 20 steps. Everything is kept on a log scale where
 * it can overflow (x up to thousands). The remaining subtraction loses about log10(c / r') digits
 * when r' is far below c (new customers, tiny r, huge b): ~1e-12 relative for real data. P(alive) is
 * a logistic of a log-odds, so it never overflows.
 */
import { minimizeFromStarts } from './optimize.js';
import {
  continueHypergeometric,
  digammaDifference,
  expm1OverX,
  logAddExp,
  logistic,
  logPochhammer,
} from './special.js';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** one customer's calibration summary; `count` merges identical customers (default 1) */
export interface RepeatSummary {
  x: number;
  t_x: number;
  T: number;
  count?: number;
}

export interface BgNbdFit extends BgNbdParams {
  /** total log-likelihood (sum over customers, without the penalty) */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  /** max |gradient| of the penalised mean negative log-likelihood in log-parameters */
  gradientNorm: number;
  /** customers (sum of counts) and distinct histories fitted */
  customers: number;
  distinct: number;
}

export interface BgNbdFitOptions {
  /** L2 penalty coefficient on the parameters, as lifetimes' penalizer_coef (default 0) */
  penalizer?: number;
  /** L-BFGS iteration cap per start (default 500) */
  maxIterations?: number;
  /** convergence: max |gradient| of the mean negative log-likelihood (default 1e-8) */
  gradientTolerance?: number;
  /** extra starting point, in the data's time unit */
  initial?: BgNbdParams;
}

function checkParams(p: BgNbdParams): void {
  for (const k of ['r', 'alpha', 'a', 'b'] as const) {
    const v = p[k];
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`BG/NBD parameter ${k} must be positive and finite, got ${v}`);
  }
}

function checkHistory(x: number, t_x: number, T: number): void {
  if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`x must be a non-negative integer, got ${x}`);
  if (!(t_x >= 0 && Number.isFinite(t_x))) throw new RangeError(`t_x must be finite and >= 0, got ${t_x}`);
  if (!(T >= t_x && Number.isFinite(T))) throw new RangeError(`T must be finite and >= t_x, got T=${T}, t_x=${t_x}`);
}

/** Identical histories merged, sorted by x (then t_x, T) so x-only terms can be shared. */
interface Compressed {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  w: Float64Array;
  /** group g spans rows groupStart[g] .. groupStart[g+1]-1, all with x = groupX[g] */
  groupStart: Int32Array;
  groupX: Float64Array;
  groupW: Float64Array;
  total: number;
}

function compress(rows: Iterable<RepeatSummary>): Compressed {
  const byKey = new Map<string, { x: number; tx: number; T: number; w: number }>();
  for (const s of rows) {
    checkHistory(s.x, s.t_x, s.T);
    const w = s.count ?? 1;
    if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`count must be finite and >= 0, got ${w}`);
    if (w === 0) continue;
    const key = `${s.x},${s.t_x},${s.T}`;
    const e = byKey.get(key);
    if (e) e.w += w;
    else byKey.set(key, { x: s.x, tx: s.t_x, T: s.T, w });
  }
  const list = [...byKey.values()].sort((p, q) => p.x - q.x || p.tx - q.tx || p.T - q.T);
  const n = list.length;
  const out: Compressed = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    w: new Float64Array(n),
    groupStart: new Int32Array(0),
    groupX: new Float64Array(0),
    groupW: new Float64Array(0),
    total: 0,
  };
  const starts: number[] = [];
  const gx: number[] = [];
  const gw: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = list[i];
    out.x[i] = e.x;
    out.tx[i] = e.tx;
    out.T[i] = e.T;
    out.w[i] = e.w;
    out.total += e.w;
    if (i === 0 || e.x !== list[i - 1].x) {
      starts.push(i);
      gx.push(e.x);
      gw.push(0);
    }
    gw[gw.length - 1] += e.w;
  }
  starts.push(n);
  out.groupStart = Int32Array.from(starts);
  out.groupX = Float64Array.from(gx);
  out.groupW = Float64Array.from(gw);
  return out;
}

/**
 * Total log-likelihood and (optionally) its gradient with respect to (r, alpha, a, b), at the times
 * as stored in `d` (the fit passes rescaled times, and alpha in the same unit).
 */
function logLikelihoodAndGradient(
  d: Compressed,
  r: number,
  alpha: number,
  a: number,
  b: number,
  grad: Float64Array | null,
): number {
  let ll = 0;
  let gr = 0;
  let gal = 0;
  let ga = 0;
  let gb = 0;
  const logAlpha = Math.log(alpha);
  const logA = Math.log(a);
  for (let g = 0; g < d.groupX.length; g++) {
    const x = d.groupX[g];
    const W = d.groupW[g];
    // A1 + A2: the x-only part
    const A1 = logPochhammer(r, x) + r * logAlpha;
    const A2 = logPochhammer(b, x) - logPochhammer(a + b, x);
    ll += W * (A1 + A2);
    if (grad) {
      gr += W * (digammaDifference(r, x) + logAlpha);
      gal += (W * r) / alpha;
      const dab = -digammaDifference(a + b, x);
      ga += W * dab;
      gb += W * (dab + digammaDifference(b, x));
    }
    const rx = r + x;
    const end = d.groupStart[g + 1];
    if (x === 0) {
      for (let i = d.groupStart[g]; i < end; i++) {
        const w = d.w[i];
        const aT = alpha + d.T[i];
        ll -= w * rx * Math.log(aT);
        if (grad) {
          gr -= w * Math.log(aT);
          gal -= (w * rx) / aT;
        }
      }
      continue;
    }
    const logRatio = logA - Math.log(b + x - 1);
    for (let i = d.groupStart[g]; i < end; i++) {
      const w = d.w[i];
      const aT = alpha + d.T[i];
      const aTx = alpha + d.tx[i];
      const lT = Math.log(aT);
      const lTx = Math.log(aTx);
      const A3 = -rx * lT;
      const A4 = logRatio - rx * lTx;
      ll += w * logAddExp(A3, A4);
      if (grad) {
        const w4 = logistic(A4 - A3); // weight of the "dropped out at t_x" branch
        const w3 = 1 - w4;
        gr -= w * (w3 * lT + w4 * lTx);
        gal -= w * rx * (w3 / aT + w4 / aTx);
        ga += (w * w4) / a;
        gb -= (w * w4) / (b + x - 1);
      }
    }
  }
  if (grad) {
    grad[0] = gr;
    grad[1] = gal;
    grad[2] = ga;
    grad[3] = gb;
  }
  return ll;
}

/** Total log-likelihood of the BG/NBD parameters over the summaries (weighted by count). */
export function bgNbdLogLikelihood(params: BgNbdParams, summaries: Iterable<RepeatSummary>): number {
  checkParams(params);
  const d = compress(summaries);
  return logLikelihoodAndGradient(d, params.r, params.alpha, params.a, params.b, null);
}

function rescale(d: Compressed, s: number): Compressed {
  const tx = d.tx.map((v) => v * s);
  const T = d.T.map((v) => v * s);
  return { ...d, tx, T };
}

/** Fit the BG/NBD model by maximum likelihood (see the file comment for the method). */
export function fitBgNbd(summaries: Iterable<RepeatSummary>, opts: BgNbdFitOptions = {}): BgNbdFit {
  const raw = compress(summaries);
  if (raw.total === 0) throw new RangeError('fitBgNbd needs at least one customer');
  const penalizer = opts.penalizer ?? 0;
  if (!(penalizer >= 0)) throw new RangeError('penalizer must be >= 0');
  let maxT = 0;
  let sumX = 0;
  let sumT = 0;
  for (let i = 0; i < raw.T.length; i++) {
    maxT = Math.max(maxT, raw.T[i]);
    sumX += raw.w[i] * raw.x[i];
    sumT += raw.w[i] * raw.T[i];
  }
  const scale = maxT > 0 ? 1 / maxT : 1;
  const d = rescale(raw, scale);
  const W = raw.total;
  const grad = new Float64Array(4);
  const objective = (theta: Float64Array, g: Float64Array): number => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const a = Math.exp(theta[2]);
    const b = Math.exp(theta[3]);
    if (![r, alpha, a, b].every((v) => v > 0 && Number.isFinite(v))) return Infinity;
    const ll = logLikelihoodAndGradient(d, r, alpha, a, b, grad);
    const ps = [r, alpha, a, b];
    let pen = 0;
    for (let k = 0; k < 4; k++) {
      pen += ps[k] * ps[k];
      // chain rule through p = exp(theta): d/dtheta = p d/dp
      g[k] = (-grad[k] * ps[k]) / W + 2 * penalizer * ps[k] * ps[k];
    }
    return -ll / W + penalizer * pen;
  };

  // a purchase rate per unit of (rescaled) time, for data-driven starts
  const rate = Math.max(sumX / Math.max(sumT * scale, 1e-12), 1e-6);
  const starts: number[][] = [
    [0.1, 0.1, 0.1, 0.1], // lifetimes' start: every parameter e^0.1
    [Math.log(0.25), Math.log(0.25 / rate), Math.log(0.8), Math.log(2.5)],
    [0, Math.log(1 / rate), 0, Math.log(3)],
  ];
  if (opts.initial) {
    checkParams(opts.initial);
    const i = opts.initial;
    starts.unshift([Math.log(i.r), Math.log(i.alpha * scale), Math.log(i.a), Math.log(i.b)]);
  }
  const { best, iterations } = minimizeFromStarts(objective, starts, {
    maxIterations: opts.maxIterations ?? 500,
    gradientTolerance: opts.gradientTolerance ?? 1e-8,
    polishIterations: 4000,
    name: 'fitBgNbd',
  });
  const [r, alphaScaled, a, b] = best.x.map(Math.exp);
  const alpha = alphaScaled / scale;
  const logLikelihood = logLikelihoodAndGradient(raw, r, alpha, a, b, null);
  return {
    r,
    alpha,
    a,
    b,
    logLikelihood,
    iterations,
    converged: best.converged,
    gradientNorm: best.gradientNorm,
    customers: W,
    distinct: raw.x.length,
  };
}

/**
 * M is summed as a series for z up to SERIES_LIMIT, and beyond it while the series finishes within
 * SERIES_BUDGET terms (it does fast when c is large: its terms first shrink like (n z / c)^n); otherwise
 * the series' value at SERIES_LIMIT is continued along its differential equation.
 */
const SERIES_LIMIT = 0.8;
const SERIES_BUDGET = 2_000;

/**
 * S = sum_{n>=1} (A)_n (a)_{n-1} z^n / ((c+1)_{n-1} n!) with A = c - r', and its derivative in z, on a
 * common log scale (S = value e^log, S' = deriv e^log) so huge intermediate terms never overflow.
 */
function tailSeries(
  A: number,
  a: number,
  c: number,
  z: number,
  maxTerms = 5_000_000,
): { value: number; deriv: number; log: number; converged: boolean } {
  let term = A * z;
  if (term === 0) return { value: 0, deriv: 0, log: 0, converged: true };
  let sum = term;
  let dsum = term; // sum of n s_n; S' = dsum / z
  let scale = 0;
  let converged = false;
  for (let n = 1; n < maxTerms; n++) {
    const ratio = (((A + n) * (a + n - 1)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    dsum += (n + 1) * term;
    if (Math.abs(dsum) > 1e200) {
      sum *= 1e-200;
      dsum *= 1e-200;
      term *= 1e-200;
      scale += 200 * Math.LN10;
    }
    if (term === 0) {
      converged = true;
      break;
    }
    if (n > Math.abs(A) + a + 2) {
      const rb = Math.max(Math.abs(ratio), z);
      if (rb < 1 && (Math.abs(term) * (n + 1) * rb) / (1 - rb) ** 2 <= 1e-17 * Math.abs(dsum)) {
        converged = true;
        break;
      }
    }
  }
  return { value: sum, deriv: dsum / z, log: scale, converged };
}

/**
 * Expected purchases in the next t by a customer who is alive now, with purchase rate
 * lambda ~ Gamma(rp, alphap) and dropout p ~ Beta(a, bp) (see the file comment). The building block
 * of expectedRepeats and conditionalExpected; it does not validate its arguments (all positive, t >= 0).
 */
export function expectedWhileAlive(rp: number, alphap: number, a: number, bp: number, t: number): number {
  if (!(t > 0)) return 0;
  const u = t / alphap;
  const logW = -Math.log1p(u); // log(1 - z), exact for large u
  const z = u / (1 + u);
  const c = a + bp - 1;
  const A = c - rp;
  const first = -c * logW * expm1OverX((a - 1) * logW);
  let S: number;
  let logS: number;
  const direct = tailSeries(A, a, c, z, z <= SERIES_LIMIT ? undefined : SERIES_BUDGET);
  if (direct.converged) {
    S = direct.value;
    logS = direct.log;
  } else {
    // S solves z(1-z)S'' + [c - (A + a) z]S' - A(a-1)S = A c (the 2F1(A, a-1; c; z) equation, less its constant)
    const s = tailSeries(A, a, c, SERIES_LIMIT);
    const out = continueHypergeometric(A, a - 1, c, A * c, SERIES_LIMIT, s.value, s.deriv, Math.exp(logW), s.log);
    S = out.y;
    logS = out.log;
  }
  const second = S === 0 ? 0 : Math.sign(S) * Math.exp((a - 1) * logW + logS + Math.log(Math.abs(S)));
  return Math.max(0, first - second);
}

/** P(alive at T | x, t_x, T): 1 for x = 0, else a logistic of the log-odds of having dropped out. */
export function pAlive(params: BgNbdParams, x: number, t_x: number, T: number): number {
  checkParams(params);
  checkHistory(x, t_x, T);
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const logOddsDead = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + t_x));
  return logistic(-logOddsDead);
}

/** Unconditional E[X(t)]: expected repeat purchases in (0, t] of a customer who just made a first purchase. */
export function expectedRepeats(params: BgNbdParams, t: number): number {
  checkParams(params);
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`t must be finite and >= 0, got ${t}`);
  return expectedWhileAlive(params.r, params.alpha, params.a, params.b, t);
}

/** E[Y(t) | x, t_x, T]: expected purchases in the next t periods after the calibration end. */
export function conditionalExpected(params: BgNbdParams, t: number, x: number, t_x: number, T: number): number {
  checkParams(params);
  checkHistory(x, t_x, T);
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`t must be finite and >= 0, got ${t}`);
  const alive = pAlive(params, x, t_x, T);
  if (alive === 0) return 0;
  return alive * expectedWhileAlive(params.r + x, params.alpha + T, params.a, params.b + x, t);
}
