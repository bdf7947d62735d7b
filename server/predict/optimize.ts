/**
 * Unconstrained minimisers for the model fits: L-BFGS (Nocedal & Wright, Numerical Optimization,
 * 2nd ed., Algorithm 7.4 with the strong-Wolfe line search of Algorithms 3.5/3.6) for smooth
 * objectives with analytic gradients, and Nelder–Mead (with the dimension-adaptive coefficients of
 * Gao & Han 2012) as a derivative-free fallback.
 *
 * Stability: a trial point whose objective is NaN or infinite is treated as +Infinity, so the line
 * search backs off instead of propagating it; curvature pairs with s.y <= 1e-12 |s||y| are skipped
 * so the inverse-Hessian estimate stays positive definite; a failed line search first clears the
 * memory and retries along the steepest-descent direction, and only then stops. Convergence is the
 * infinity norm of the gradient under `gradientTolerance`; a run that stalls above it (no further
 * decrease representable in double precision) is reported with converged = false.
 */

export interface MinimizeOptions {
  /** stop when max_i |g_i| <= this (default 1e-9) */
  gradientTolerance?: number;
  /** iteration cap (default 500) */
  maxIterations?: number;
  /** L-BFGS memory (default 10) */
  memory?: number;
}

export interface MinimizeResult {
  x: number[];
  f: number;
  gradientNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: 'gradient' | 'stalled' | 'max-iterations' | 'line-search' | 'simplex';
}

/** objective and gradient: returns f(x) and writes the gradient into g */
export type ValueAndGradient = (x: Float64Array, g: Float64Array) => number;

const infNorm = (v: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (!(a <= m)) m = a; // NaN propagates as "large"
  }
  return m;
};

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

interface LinePoint {
  step: number;
  f: number;
  d: number; // directional derivative
}

/** cubic interpolation minimiser of the two points, safeguarded into the inner 80% of [lo, hi] */
function interpolateStep(lo: LinePoint, hi: LinePoint): number {
  const a = lo.step;
  const b = hi.step;
  const lower = Math.min(a, b);
  const upper = Math.max(a, b);
  const margin = 0.1 * (upper - lower);
  let t = NaN;
  if (Number.isFinite(hi.f) && Number.isFinite(hi.d)) {
    const d1 = lo.d + hi.d - (3 * (lo.f - hi.f)) / (a - b);
    const disc = d1 * d1 - lo.d * hi.d;
    if (disc >= 0) {
      const d2 = Math.sign(b - a) * Math.sqrt(disc);
      t = b - ((b - a) * (hi.d + d2 - d1)) / (hi.d - lo.d + 2 * d2);
    }
  }
  if (!(t >= lower + margin && t <= upper - margin)) t = 0.5 * (a + b);
  return t;
}

/**
 * Minimise f with L-BFGS from x0. The objective must be smooth; non-finite values are allowed at
 * trial points (they are rejected by the line search).
 */
export function lbfgs(fg: ValueAndGradient, x0: ArrayLike<number>, opts: MinimizeOptions = {}): MinimizeResult {
  const gtol = opts.gradientTolerance ?? 1e-9;
  const maxIter = opts.maxIterations ?? 500;
  const m = opts.memory ?? 10;
  const n = x0.length;
  const c1 = 1e-4;
  const c2 = 0.9;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  if (!Number.isFinite(f) || !Number.isFinite(infNorm(g))) {
    throw new RangeError('lbfgs: the objective is not finite at the starting point');
  }
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const RHO: number[] = [];
  const p = new Float64Array(n);
  const trialX = new Float64Array(n);
  let trialG = new Float64Array(n);
  let iterations = 0;
  let retriedSteepest = false;

  const direction = (): void => {
    // two-loop recursion: p = -H g
    const q = Float64Array.from(g);
    const alpha = new Array<number>(S.length);
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = RHO[i] * dot(S[i], q);
      for (let j = 0; j < n; j++) q[j] -= alpha[i] * Y[i][j];
    }
    let gamma = 1;
    if (S.length > 0) {
      const k = S.length - 1;
      gamma = dot(S[k], Y[k]) / dot(Y[k], Y[k]);
    }
    for (let j = 0; j < n; j++) q[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      const beta = RHO[i] * dot(Y[i], q);
      for (let j = 0; j < n; j++) q[j] += S[i][j] * (alpha[i] - beta);
    }
    for (let j = 0; j < n; j++) p[j] = -q[j];
  };

  const evalAt = (step: number): LinePoint => {
    for (let j = 0; j < n; j++) trialX[j] = x[j] + step * p[j];
    evaluations++;
    let fv = fg(trialX, trialG);
    if (!Number.isFinite(fv)) fv = Infinity;
    const d = fv === Infinity ? NaN : dot(trialG, p);
    return { step, f: fv, d };
  };

  /** strong-Wolfe line search; returns the accepted point (trialX/trialG hold it) or null */
  const lineSearch = (f0: number, d0: number, initial: number): LinePoint | null => {
    let prev: LinePoint = { step: 0, f: f0, d: d0 };
    let step = initial;
    const zoom = (lo: LinePoint, hi: LinePoint): LinePoint | null => {
      for (let j = 0; j < 25; j++) {
        const t = interpolateStep(lo, hi);
        if (t === lo.step || t === hi.step) break;
        const pt = evalAt(t);
        if (pt.f === Infinity || pt.f > f0 + c1 * t * d0 || pt.f >= lo.f) {
          hi = pt;
        } else {
          if (Math.abs(pt.d) <= -c2 * d0) return pt;
          if (pt.d * (hi.step - lo.step) >= 0) hi = lo;
          lo = pt;
        }
        if (Math.abs(hi.step - lo.step) <= 1e-16 * Math.max(1, Math.abs(lo.step))) break;
      }
      // accept the best point with sufficient decrease, even without the curvature condition
      if (lo.step > 0 && lo.f < f0) return evalAt(lo.step);
      return null;
    };
    for (let i = 0; i < 30; i++) {
      const pt = evalAt(step);
      if (pt.f === Infinity || pt.f > f0 + c1 * step * d0 || (i > 0 && pt.f >= prev.f)) return zoom(prev, pt);
      if (Math.abs(pt.d) <= -c2 * d0) return pt;
      if (pt.d >= 0) return zoom(pt, prev);
      prev = pt;
      step *= 2;
    }
    return null;
  };

  let reason: MinimizeResult['reason'] = 'max-iterations';
  while (iterations < maxIter) {
    const gn = infNorm(g);
    if (gn <= gtol) {
      reason = 'gradient';
      break;
    }
    direction();
    let d0 = dot(g, p);
    if (!(d0 < 0)) {
      // not a descent direction (numerical trouble): fall back to steepest descent
      S.length = 0;
      Y.length = 0;
      RHO.length = 0;
      for (let j = 0; j < n; j++) p[j] = -g[j];
      d0 = dot(g, p);
    }
    const initial = S.length === 0 ? Math.min(1, 1 / Math.sqrt(-d0)) : 1;
    const pt = lineSearch(f, d0, initial);
    if (pt === null) {
      if (!retriedSteepest && S.length > 0) {
        retriedSteepest = true;
        S.length = 0;
        Y.length = 0;
        RHO.length = 0;
        continue;
      }
      reason = 'line-search';
      break;
    }
    retriedSteepest = false;
    iterations++;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = trialX[j] - x[j];
      y[j] = trialG[j] - g[j];
    }
    const fPrev = f;
    x = Float64Array.from(trialX);
    const swap = g;
    g = trialG;
    trialG = swap;
    f = pt.f;
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      S.push(s);
      Y.push(y);
      RHO.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        RHO.shift();
      }
    }
    if (fPrev - f <= 1e-16 * Math.max(1, Math.abs(f)) && infNorm(g) > gtol) {
      // no decrease representable any more: the gradient test decides on the next pass, else stall
      if (infNorm(s) <= 1e-15 * Math.max(1, infNorm(x))) {
        reason = 'stalled';
        break;
      }
    }
  }
  const gradientNorm = infNorm(g);
  if (gradientNorm <= gtol) reason = 'gradient';
  return {
    x: Array.from(x),
    f,
    gradientNorm,
    iterations,
    evaluations,
    converged: reason === 'gradient',
    reason,
  };
}

export interface NelderMeadOptions {
  /** stop when the simplex's values and vertices are within these of the best (defaults 1e-12, 1e-10) */
  fTolerance?: number;
  xTolerance?: number;
  maxIterations?: number;
  /** initial simplex edge (default 0.1 in each coordinate, the log-parameters' natural scale) */
  step?: number;
}

/** Derivative-free Nelder–Mead with adaptive coefficients; non-finite values count as +Infinity. */
export function nelderMead(
  f: (x: Float64Array) => number,
  x0: ArrayLike<number>,
  opts: NelderMeadOptions = {},
): MinimizeResult {
  const n = x0.length;
  const ftol = opts.fTolerance ?? 1e-12;
  const xtol = opts.xTolerance ?? 1e-10;
  const maxIter = opts.maxIterations ?? 5000 * n;
  const step = opts.step ?? 0.1;
  const alpha = 1;
  const beta = 1 + 2 / n;
  const gamma = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  let evaluations = 0;
  const value = (x: Float64Array): number => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  const pts: Float64Array[] = [];
  const vals: number[] = [];
  pts.push(Float64Array.from(x0));
  for (let i = 0; i < n; i++) {
    const v = Float64Array.from(x0);
    v[i] += step;
    pts.push(v);
  }
  for (const v of pts) vals.push(value(v));
  if (vals[0] === Infinity) throw new RangeError('nelderMead: the objective is not finite at the starting point');
  let iterations = 0;
  let converged = false;
  const order = (): void => {
    const idx = pts.map((_, i) => i).sort((i, j) => vals[i] - vals[j]);
    const p2 = idx.map((i) => pts[i]);
    const v2 = idx.map((i) => vals[i]);
    for (let i = 0; i <= n; i++) {
      pts[i] = p2[i];
      vals[i] = v2[i];
    }
  };
  const combine = (c: Float64Array, w: Float64Array, t: number): Float64Array => {
    const out = new Float64Array(n);
    for (let j = 0; j < n; j++) out[j] = c[j] + t * (w[j] - c[j]);
    return out;
  };
  while (iterations < maxIter) {
    order();
    let fSpread = 0;
    let xSpread = 0;
    for (let i = 1; i <= n; i++) {
      fSpread = Math.max(fSpread, Math.abs(vals[i] - vals[0]));
      for (let j = 0; j < n; j++) xSpread = Math.max(xSpread, Math.abs(pts[i][j] - pts[0][j]));
    }
    if (fSpread <= ftol * Math.max(1, Math.abs(vals[0])) && xSpread <= xtol) {
      converged = true;
      break;
    }
    iterations++;
    const centroid = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += pts[i][j] / n;
    const worst = pts[n];
    const xr = combine(centroid, worst, -alpha);
    const fr = value(xr);
    if (fr < vals[0]) {
      const xe = combine(centroid, worst, -alpha * beta);
      const fe = value(xe);
      if (fe < fr) {
        pts[n] = xe;
        vals[n] = fe;
      } else {
        pts[n] = xr;
        vals[n] = fr;
      }
      continue;
    }
    if (fr < vals[n - 1]) {
      pts[n] = xr;
      vals[n] = fr;
      continue;
    }
    const outside = fr < vals[n];
    const xc = outside ? combine(centroid, worst, -alpha * gamma) : combine(centroid, worst, gamma);
    const fc = value(xc);
    if (fc < (outside ? fr : vals[n])) {
      pts[n] = xc;
      vals[n] = fc;
      continue;
    }
    for (let i = 1; i <= n; i++) {
      pts[i] = combine(pts[0], pts[i], delta);
      vals[i] = value(pts[i]);
    }
  }
  order();
  return {
    x: Array.from(pts[0]),
    f: vals[0],
    gradientNorm: NaN,
    iterations,
    evaluations,
    converged,
    reason: converged ? 'simplex' : 'max-iterations',
  };
}

/**
 * Multi-start fitting, as both likelihood fits use it: L-BFGS from each start whose value is
 * finite; a start that does not converge is polished with Nelder–Mead and L-BFGS again; the best
 * result wins (a converged one over an unconverged one of equal value). Throws a RangeError naming
 * the fit when no start gives a finite value.
 */
export function minimizeFromStarts(
  objective: ValueAndGradient,
  starts: readonly (readonly number[])[],
  opts: { maxIterations: number; gradientTolerance: number; polishIterations: number; name: string },
): { best: MinimizeResult; iterations: number } {
  const dims = starts[0]?.length ?? 0;
  const value = (theta: Float64Array): number => objective(theta, new Float64Array(dims));
  const lopts = { maxIterations: opts.maxIterations, gradientTolerance: opts.gradientTolerance };
  let best: MinimizeResult | null = null;
  let iterations = 0;
  for (const x0 of starts) {
    if (!Number.isFinite(value(Float64Array.from(x0)))) continue;
    let res = lbfgs(objective, x0, lopts);
    let its = res.iterations;
    if (!res.converged) {
      const nm = nelderMead(value, res.x, { maxIterations: opts.polishIterations });
      res = lbfgs(objective, nm.x, lopts);
      its += nm.iterations + res.iterations;
    }
    if (best === null || res.f < best.f - 1e-12 || (res.converged && !best.converged && res.f <= best.f + 1e-9)) {
      best = res;
      iterations = its;
    }
  }
  if (best === null) throw new RangeError(`${opts.name}: no starting point gave a finite likelihood`);
  return { best, iterations };
}
