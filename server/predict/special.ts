/**
 * Special functions for the predictive models: log-gamma, digamma, log Pochhammer symbols, signed
 * log-space arithmetic and the Gaussian hypergeometric function 2F1(a, b; c; z) for real arguments.
 *
 * Everything that can overflow is returned as a logarithm with a separate sign ({@link SignedLog}),
 * because the models multiply hypergeometric values of size e^500 by powers of size e^-500.
 *
 * - logGamma: Stirling's series (to x^-13) after shifting the argument up to 10 with one product,
 *   and the reflection formula for negative arguments (sinpi reduced to [-1/2, 1/2] first, so poles
 *   of large magnitude keep their accuracy). Absolute error a few 1e-15 for moderate arguments.
 * - digamma: the asymptotic series (to x^-14) after the recurrence psi(x) = psi(x+1) - 1/x.
 * - hyp2f1: the Gauss series on 0 <= z <= 1/2 with a running scale (terms may grow to e^700 before
 *   they shrink); Pfaff's transformation z -> z/(z-1) for z < 0 (so z < -1 is reachable, beyond the
 *   series' radius); on (1/2, 1), where the series slows down and the usual linear transformation
 *   z -> 1 - z (Abramowitz & Stegun 15.3.6) cancels catastrophically whenever d = c - a - b is near
 *   an integer (its two terms have poles there that cancel, losing about Gamma(|d|)/|d - round(d)|),
 *   the value and slope of the series at z = 1/2 are continued to z along the hypergeometric
 *   differential equation by Taylor steps (continueHypergeometric), which has no special cases.
 *   Measured against mpmath at 60 digits: relative error <= 4e-13 for 0 < a, b, c <= 100 and any
 *   z < 1 (1 - z down to 1e-6), about 1e-14 typically. Large parameters of mixed sign (above 50),
 *   where the equation would need many short steps, use the 1 - z transformation instead, interpolated
 *   in c (degree 5, from d = m +- 2e-3, 4e-3, 6e-3) within 1e-3 of an integer m; such functions cancel
 *   in every method at double precision and may lose many digits. Poles of 2F1 itself (c a
 *   non-positive integer) and z > 1 (not real-valued) throw a RangeError rather than return NaN.
 */

/** A real number as log|v| and sign(v); sign 0 means v = 0 (and log is -Infinity). */
export interface SignedLog {
  log: number;
  sign: -1 | 0 | 1;
}

const LN_SQRT_2PI = 0.9189385332046727;
const LN10 = Math.LN10;
const EPS = 1e-16;

export const ZERO: SignedLog = { log: -Infinity, sign: 0 };
export const ONE: SignedLog = { log: 0, sign: 1 };

/** sin(pi x) with the argument reduced first, so it stays accurate (and exactly 0 at integers). */
export function sinPi(x: number): number {
  const n = Math.round(x);
  const r = x - n; // in [-1/2, 1/2]
  const s = Math.sin(Math.PI * r);
  return n % 2 === 0 ? s : -s;
}

function stirling(x: number): number {
  const x2 = 1 / (x * x);
  const series =
    (1 / 12 +
      x2 *
        (-1 / 360 +
          x2 * (1 / 1260 + x2 * (-1 / 1680 + x2 * (1 / 1188 + x2 * (-691 / 360360 + x2 * (1 / 156))))))) /
    x;
  return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + series;
}

/** log|Gamma(x)|; +Infinity at the poles (x a non-positive integer). */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (Number.isInteger(x)) return Infinity;
    // reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x)
    return Math.log(Math.PI / Math.abs(sinPi(x))) - logGamma(1 - x);
  }
  if (x >= 10) return stirling(x);
  let p = 1;
  let y = x;
  while (y < 10) {
    p *= y;
    y += 1;
  }
  return stirling(y) - Math.log(p);
}

/** sign of Gamma(x): 1 for x > 0; alternating between the poles below 0; 0 at the poles. */
export function gammaSign(x: number): -1 | 0 | 1 {
  if (x > 0) return 1;
  if (Number.isInteger(x)) return 0;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** Gamma(x) as a signed log; at a pole the magnitude is infinite, so this throws there. */
export function gammaSigned(x: number): SignedLog {
  const s = gammaSign(x);
  if (s === 0) throw new RangeError(`Gamma has a pole at ${x}`);
  return { log: logGamma(x), sign: s };
}

/** 1/Gamma(x) as a signed log: exactly 0 at the poles of Gamma. */
export function rgammaSigned(x: number): SignedLog {
  const s = gammaSign(x);
  if (s === 0) return ZERO;
  return { log: -logGamma(x), sign: s };
}

/** digamma psi(x) = d/dx log Gamma(x). */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return NaN;
    // reflection: psi(1-x) - psi(x) = pi cot(pi x)
    const n = Math.round(x);
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * (x - n));
  }
  let acc = 0;
  let y = x;
  while (y < 10) {
    acc -= 1 / y;
    y += 1;
  }
  const y2 = 1 / (y * y);
  const series =
    y2 *
    (1 / 12 -
      y2 * (1 / 120 - y2 * (1 / 252 - y2 * (1 / 240 - y2 * (1 / 132 - y2 * (691 / 32760 - y2 * (1 / 12)))))));
  return acc + Math.log(y) - 0.5 / y - series;
}

/** Integer counts up to this use exact sums in the Pochhammer helpers (no lgamma cancellation). */
const SMALL_COUNT = 64;

/** log of the Pochhammer symbol (v)_n = Gamma(v+n)/Gamma(v) for v > 0, n >= 0. */
export function logPochhammer(v: number, n: number): number {
  if (n === 0) return 0;
  if (Number.isInteger(n) && n <= SMALL_COUNT) {
    let s = 0;
    for (let k = 0; k < n; k++) s += Math.log(v + k);
    return s;
  }
  return logGamma(v + n) - logGamma(v);
}

/** psi(v+n) - psi(v) for v > 0, n >= 0 (exact sum of 1/(v+k) for small integer n). */
export function digammaDifference(v: number, n: number): number {
  if (n === 0) return 0;
  if (Number.isInteger(n) && n <= SMALL_COUNT) {
    let s = 0;
    for (let k = 0; k < n; k++) s += 1 / (v + k);
    return s;
  }
  return digamma(v + n) - digamma(v);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = a > b ? a : b;
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** 1 / (1 + exp(-x)) without overflow. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** expm1(y)/y, continuous at 0. */
export function expm1OverX(y: number): number {
  if (Math.abs(y) < 1e-5) return 1 + y * (0.5 + y / 6);
  return Math.expm1(y) / y;
}

export function signedFromNumber(v: number): SignedLog {
  if (v === 0) return ZERO;
  return { log: Math.log(Math.abs(v)), sign: v > 0 ? 1 : -1 };
}

export function signedToNumber(v: SignedLog): number {
  return v.sign === 0 ? 0 : v.sign * Math.exp(v.log);
}

export function signedMul(...vs: SignedLog[]): SignedLog {
  let log = 0;
  let sign = 1;
  for (const v of vs) {
    if (v.sign === 0) return ZERO;
    log += v.log;
    sign *= v.sign;
  }
  return { log, sign: sign as -1 | 1 };
}

export function signedAdd(p: SignedLog, q: SignedLog): SignedLog {
  if (p.sign === 0) return q;
  if (q.sign === 0) return p;
  const [hi, lo] = p.log >= q.log ? [p, q] : [q, p];
  const r = Math.exp(lo.log - hi.log);
  if (hi.sign === lo.sign) return { log: hi.log + Math.log1p(r), sign: hi.sign };
  if (r === 1) return ZERO;
  return { log: hi.log + Math.log1p(-r), sign: hi.sign };
}

/** Lagrange interpolation through (xs[i], ys[i]), evaluated at x. */
export function lagrange(xs: readonly number[], ys: readonly number[], x: number): number {
  let out = 0;
  for (let i = 0; i < xs.length; i++) {
    let w = 1;
    for (let j = 0; j < xs.length; j++) if (j !== i) w *= (x - xs[j]) / (xs[i] - xs[j]);
    out += w * ys[i];
  }
  return out;
}

/** Offsets (in units of the node spacing) of the six interpolation nodes around a removable pole. */
export const NODE_OFFSETS = [-3, -2, -1, 1, 2, 3] as const;

/**
 * Interpolate a function analytic near x0 but numerically ill-conditioned within a small distance of
 * `centre`: evaluate at centre + h*k (k = +-1, +-2, +-3) and interpolate to x0. Values are combined on
 * a common scale, so each may be a SignedLog of any magnitude.
 */
export function interpolateAcross(
  f: (x: number) => SignedLog,
  centre: number,
  h: number,
  x0: number,
): SignedLog {
  const xs = NODE_OFFSETS.map((k) => centre + h * k);
  const vs = xs.map(f);
  let top = -Infinity;
  for (const v of vs) if (v.sign !== 0 && v.log > top) top = v.log;
  if (top === -Infinity) return ZERO;
  const ys = vs.map((v) => (v.sign === 0 ? 0 : v.sign * Math.exp(v.log - top)));
  const y = lagrange(xs, ys, x0);
  if (y === 0) return ZERO;
  return { log: top + Math.log(Math.abs(y)), sign: y > 0 ? 1 : -1 };
}

const isNonPositiveInteger = (v: number): boolean => v <= 0 && Number.isInteger(v);

/**
 * Gauss series sum_n (a)_n (b)_n / ((c)_n n!) z^n for |z| < 1 (or a terminating one), with a running
 * scale so growing terms never overflow. Stops when the remaining tail, bounded geometrically once
 * the term ratio has settled below 1, is under 1e-16 of the sum.
 */
export function gaussSeries(a: number, b: number, c: number, z: number, maxTerms = 2_000_000): SignedLog {
  let term = 1;
  let sum = 1;
  let scale = 0;
  const settle = Math.max(Math.abs(a), Math.abs(b), Math.abs(c)) + 2;
  for (let n = 0; n < maxTerms; n++) {
    const num = (a + n) * (b + n);
    if (num === 0) break; // terminating series
    const den = (c + n) * (n + 1);
    if (den === 0) throw new RangeError(`2F1 has a pole: c = ${c} is a non-positive integer`);
    const ratio = (num / den) * z;
    term *= ratio;
    sum += term;
    const at = Math.abs(term);
    const as = Math.abs(sum);
    if (as > 1e200 || at > 1e200) {
      term *= 1e-200;
      sum *= 1e-200;
      scale += 200 * LN10;
    }
    if (at === 0) break;
    if (n > settle) {
      const rb = Math.max(Math.abs(ratio), Math.abs(z));
      if (rb < 1 && (Math.abs(term) * rb) / (1 - rb) <= EPS * Math.abs(sum)) break;
    }
  }
  if (sum === 0) return ZERO;
  return { log: scale + Math.log(Math.abs(sum)), sign: sum > 0 ? 1 : -1 };
}

/**
 * Continue a solution of the (possibly inhomogeneous) hypergeometric equation
 *   z (1 - z) y'' + [c - (a + b + 1) z] y' - a b y = rhs
 * from (z0, y(z0), y'(z0)) to z1 = 1 - w1 (given as w1, so callers that know 1 - z exactly keep it),
 * z0 <= z1 < 1, by Taylor steps: each step's series is built by
 * the equation's three-term recurrence and taken to at most half the distance to the singular point
 * z = 1, so its terms shrink like 2^-j (about 60 per step, log2((1 - z0)/(1 - z1)) + 1 steps), and to
 * at most 4 z(1-z)/|c - (a+b+1)z| and 4 sqrt(z(1-z)/|ab|), beyond which large parameters would make
 * the terms grow before they shrink (the equation is stiff there) and cancel. Used where
 * the Gauss series converges too slowly and the 1 - z transformation cancels (d = c - a - b near an
 * integer): the equation has no such special cases. Values are kept on a running scale (`log`), so
 * growing solutions do not overflow; rhs is rescaled with them.
 */
export function continueHypergeometric(
  a: number,
  b: number,
  c: number,
  rhs: number,
  z0: number,
  y0: number,
  dy0: number,
  w1: number,
  log0 = 0,
): { y: number; dy: number; log: number } {
  // the position is tracked as w = 1 - z, which halving steps keep exact: 1 - z itself would lose
  // digits near z = 1 (and the solution there goes like w^(c-a-b))
  let w = 1 - z0;
  let y = y0;
  let dy = dy0;
  let log = log0;
  let r = rhs * Math.exp(-log0);
  const ab = a * b;
  const s1 = a + b + 1;
  for (let step = 0; step < 100_000 && w > w1; step++) {
    const z = 1 - w;
    const p0 = z * w;
    const p1 = w - z;
    const q0 = c - s1 + s1 * w;
    // a step longer than p0/|q0| (or sqrt(p0/|ab|)) would make the series' terms grow like e^(h|q0|/p0)
    // before they shrink, and cancel: the equation is stiff there, so such steps are shortened
    const h = Math.min(w - w1, 0.5 * w, (4 * p0) / Math.abs(q0), 4 * Math.sqrt(p0 / Math.abs(ab)));
    // f_j of y(z + zeta) = sum f_j zeta^j, scaled: g_j = f_j h^j
    let gPrev = y; // g_0
    let gCur = dy * h; // g_1
    let sumY = gPrev + gCur;
    let sumDy = gCur; // sum j g_j (divided by h at the end)
    let small = 0;
    for (let j = 0; j < 4000; j++) {
      // P0 (j+2)(j+1) f_{j+2} = rhs[j=0] - (j+1)(P1 j + Q0) f_{j+1} - (P2 j(j-1) + Q1 j - ab) f_j, P2 = -1, Q1 = -s1
      const num =
        (j === 0 ? r * h * h : 0) -
        (j + 1) * (p1 * j + q0) * gCur * h -
        (-j * (j - 1) - s1 * j - ab) * gPrev * h * h;
      const gNext = num / (p0 * (j + 2) * (j + 1));
      sumY += gNext;
      sumDy += (j + 2) * gNext;
      gPrev = gCur;
      gCur = gNext;
      const scale = Math.abs(sumY) + Math.abs(sumDy);
      if (Math.abs(gNext) * (j + 3) <= 1e-17 * scale && j > 4) {
        if (++small >= 3) break;
      } else small = 0;
    }
    w = h === w - w1 ? w1 : w - h;
    y = sumY;
    dy = sumDy / h;
    const m = Math.max(Math.abs(y), Math.abs(dy) * w);
    if (m > 1e100 || (m < 1e-100 && m > 0)) {
      y /= m;
      dy /= m;
      r /= m;
      log += Math.log(m);
    }
  }
  if (w > w1) throw new RangeError('continueHypergeometric: parameters too large to continue within 100,000 steps');
  return { y, dy, log };
}

/** Distance below which d = c - a - b counts as an integer for the 1 - z transformation. */
const NEAR_INTEGER = 1e-3;
const NODE_SPACING = 2e-3;

/** The 1 - z transformation (A&S 15.3.6) for non-integer d = c - a - b; 1/2 < z < 1. */
export function oneMinusZ(a: number, b: number, c: number, z: number): SignedLog {
  const d = c - a - b;
  const w = 1 - z;
  const gc = gammaSigned(c);
  const t1 = signedMul(
    gc,
    gammaSigned(d),
    rgammaSigned(c - a),
    rgammaSigned(c - b),
    gaussSeries(a, b, 1 - d, w),
  );
  const t2 = signedMul(
    { log: d * Math.log(w), sign: 1 },
    gc,
    gammaSigned(-d),
    rgammaSigned(a),
    rgammaSigned(b),
    gaussSeries(c - a, c - b, 1 + d, w),
  );
  return signedAdd(t1, t2);
}

/**
 * log|2F1(a, b; c; z)| and its sign, for real a, b, c and z <= 1 (z = 1 only where Gauss's sum
 * converges, c - a - b > 0). Throws a RangeError at poles (c a non-positive integer with no earlier
 * termination) and for z > 1, where the function is not real-valued.
 */
export function hyp2f1Log(a: number, b: number, c: number, z: number): SignedLog {
  if (![a, b, c, z].every(Number.isFinite)) throw new RangeError('2F1 needs finite arguments');
  if (z > 1) throw new RangeError(`2F1 is not real-valued for z = ${z} > 1`);
  if (z === 0 || a === 0 || b === 0) return ONE;
  if (isNonPositiveInteger(a) || isNonPositiveInteger(b)) {
    // a polynomial: the series terminates for every z
    return gaussSeries(a, b, c, z);
  }
  if (isNonPositiveInteger(c)) throw new RangeError(`2F1 has a pole: c = ${c} is a non-positive integer`);
  if (z === 1) {
    const d = c - a - b;
    if (!(d > 0)) throw new RangeError(`2F1(a, b; c; 1) diverges when c - a - b = ${d} <= 0`);
    return signedMul(gammaSigned(c), gammaSigned(d), rgammaSigned(c - a), rgammaSigned(c - b));
  }
  if (z < 0) {
    // Pfaff: 2F1(a,b;c;z) = (1-z)^(-a) 2F1(a, c-b; c; z/(z-1)), argument now in (0, 1)
    const inner = hyp2f1Log(a, c - b, c, z / (z - 1));
    return signedMul({ log: -a * Math.log1p(-z), sign: 1 }, inner);
  }
  if (z <= 0.5) return gaussSeries(a, b, c, z);
  // (1/2, 1): continue from z = 1/2 along the differential equation, which has no special cases;
  // only for large parameters of mixed sign, where its steps would be many and short, use the
  // 1 - z transformation (interpolated in c across the removable poles at integer d)
  if ((a > 0 && b > 0 && c > 0) || Math.max(Math.abs(a), Math.abs(b), Math.abs(c)) <= ODE_PARAMETER_LIMIT) {
    return byEquation(a, b, c, z);
  }
  const d = c - a - b;
  const m = Math.round(d);
  try {
    if (Math.abs(d - m) >= NEAR_INTEGER) return oneMinusZ(a, b, c, z);
    const c0 = c - (d - m);
    const nodesOk = NODE_OFFSETS.every((k) => {
      const ck = c0 + NODE_SPACING * k;
      return !(ck <= 0.5 && Math.abs(ck - Math.round(ck)) < 2 * NEAR_INTEGER);
    });
    if (nodesOk) return interpolateAcross((ck) => oneMinusZ(a, b, ck, z), c0, NODE_SPACING, c);
  } catch {
    // a Gamma pole met exactly: fall through to the equation
  }
  return byEquation(a, b, c, z);
}

/** mixed-sign parameters up to this size are continued along the differential equation too */
const ODE_PARAMETER_LIMIT = 50;

/** 2F1 on (z0, 1) from its value and derivative at z0 (Gauss series), continued by the equation */
export function byEquation(a: number, b: number, c: number, z: number, z0 = 0.5): SignedLog {
  const f = gaussSeries(a, b, c, z0);
  if (f.sign === 0) return gaussSeries(a, b, c, z);
  const df = signedMul(signedFromNumber((a * b) / c), gaussSeries(a + 1, b + 1, c + 1, z0));
  const ratio = df.sign === 0 ? 0 : df.sign * f.sign * Math.exp(df.log - f.log);
  const out = continueHypergeometric(a, b, c, 0, z0, 1, ratio, 1 - z);
  if (out.y === 0) return ZERO;
  return { log: f.log + out.log + Math.log(Math.abs(out.y)), sign: (f.sign * Math.sign(out.y)) as -1 | 1 };
}

/** 2F1(a, b; c; z) as a number (it may overflow to +-Infinity: use hyp2f1Log for large values). */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  return signedToNumber(hyp2f1Log(a, b, c, z));
}
