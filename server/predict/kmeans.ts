/**
 * K-means segmentation of customers (Lloyd's algorithm) with k-means++ seeding (Arthur &
 * Vassilvitskii 2007; the greedy variant with 2 + ln k candidates per centre, as scikit-learn does),
 * K chosen from a range by the mean silhouette (Rousseeuw 1987) on a random sample of points.
 *
 * Features are transformed before clustering: sign(v) ln(1 + |v|) (spend and counts are heavy-tailed;
 * the log keeps a few whales from owning a cluster each), then each column standardised to mean 0 and
 * standard deviation 1 (a constant column is only centred), so no unit dominates the distance.
 * Randomness comes only from the injected generator, so a seed gives the same segments every time.
 *
 * Stability and cost: distances are Euclidean in Float64Arrays; Lloyd's iterations use Hamerly's
 * bounds (exact, only skipping distance computations that cannot change a label); an empty cluster
 * is re-seeded with the point farthest from its centre; Lloyd stops when no label changes, the
 * largest centre move is under `tolerance` (standardised units), or after maxIterations. The
 * candidate K are fitted on a random subset of at most `selectionSample` points (default 20,000) and
 * scored by the silhouette of at most `silhouetteSample` of them (default 2000, as scikit-learn's
 * silhouette_score with sample_size does; O(sample^2) per K); the chosen K is then refined on all
 * points starting from the subset's centres. So 100,000 points cost about as much as 20,000.
 * Clusters are reported largest first.
 */
import type { Random } from './rng.js';

export interface KMeansOptions {
  /** the generator for seeding and sampling (e.g. seededRandom(42) from ./rng.ts) */
  random: Random;
  /** smallest and largest K tried (defaults 2 and 8) */
  kMin?: number;
  kMax?: number;
  /** points the silhouette is computed on (default 2000) */
  silhouetteSample?: number;
  /**
   * points the candidate K are fitted on (default 20,000): above it, K is chosen on a random subset
   * and the chosen K is then refined on all points from the subset's centres
   */
  selectionSample?: number;
  /** Lloyd iterations per run (default 100) */
  maxIterations?: number;
  /** largest centre move that counts as converged, in standardised units (default 1e-4) */
  tolerance?: number;
  /** seedings per K, the lowest inertia kept (default 1) */
  restarts?: number;
  /** apply sign(v) ln(1 + |v|) to every feature first (default true) */
  logScale?: boolean;
}

export interface Cluster {
  /** points in the cluster */
  size: number;
  /** size / points */
  share: number;
  /** centre in the transformed (log, standardised) space */
  centre: number[];
  /** centre mapped back to the original units (a geometric-mean-like typical member when log-scaled) */
  centreOriginal: number[];
}

export interface KMeansResult {
  k: number;
  clusters: Cluster[];
  /** cluster index (into clusters, largest first) of each input point */
  labels: Int32Array;
  /** sum of squared distances to the centres, in the transformed space */
  inertia: number;
  /** mean silhouette of the chosen K on the sample */
  silhouette: number;
  /** every K tried */
  candidates: { k: number; silhouette: number; inertia: number; iterations: number }[];
}

interface Prepared {
  data: Float64Array;
  n: number;
  dim: number;
  mean: Float64Array;
  sd: Float64Array;
  logScale: boolean;
}

const signedLog1p = (v: number): number => (v < 0 ? -Math.log1p(-v) : Math.log1p(v));
const signedExpm1 = (v: number): number => (v < 0 ? -Math.expm1(-v) : Math.expm1(v));

function prepare(points: readonly (readonly number[])[], logScale: boolean): Prepared {
  const n = points.length;
  const dim = n > 0 ? points[0].length : 0;
  if (dim === 0) throw new RangeError('kmeans needs points with at least one feature');
  const data = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const p = points[i];
    if (p.length !== dim) throw new RangeError(`point ${i} has ${p.length} features, expected ${dim}`);
    for (let j = 0; j < dim; j++) {
      const v = p[j];
      if (!Number.isFinite(v)) throw new RangeError(`point ${i} feature ${j} is not finite`);
      data[i * dim + j] = logScale ? signedLog1p(v) : v;
    }
  }
  const mean = new Float64Array(dim);
  const sd = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += data[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const dv = data[i * dim + j] - mean[j];
      sd[j] += dv * dv;
    }
  }
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(sd[j] / n);
    sd[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j])) ? s : 1;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) data[i * dim + j] = (data[i * dim + j] - mean[j]) / sd[j];
  return { data, n, dim, mean, sd, logScale };
}

/** pick an index with probability proportional to weights (cumulative search) */
function pickWeighted(weights: Float64Array, total: number, random: Random): number {
  let target = random() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i];
    if (target < 0) return i;
  }
  // rounding left a sliver: the last point with positive weight
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}

/** greedy k-means++: each new centre is the best of 2 + ln k candidates drawn by D^2 weighting */
function seedPlusPlus(p: Prepared, k: number, random: Random): Float64Array {
  const { data, n, dim } = p;
  const centres = new Float64Array(k * dim);
  const first = Math.min(n - 1, Math.floor(random() * n));
  centres.set(data.subarray(first * dim, first * dim + dim), 0);
  const closest = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const d = data[i * dim + j] - data[first * dim + j];
      s += d * d;
    }
    closest[i] = s;
    total += s;
  }
  const trials = 2 + Math.floor(Math.log(k));
  const candidateDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestIndex = -1;
    let bestTotal = Infinity;
    for (let t = 0; t < trials; t++) {
      const idx = total > 0 ? pickWeighted(closest, total, random) : Math.min(n - 1, Math.floor(random() * n));
      let sum = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) {
          const d = data[i * dim + j] - data[idx * dim + j];
          s += d * d;
        }
        const m = s < closest[i] ? s : closest[i];
        candidateDist[i] = m;
        sum += m;
      }
      if (sum < bestTotal) {
        bestTotal = sum;
        bestIndex = idx;
        bestDist.set(candidateDist);
      }
    }
    centres.set(data.subarray(bestIndex * dim, bestIndex * dim + dim), c * dim);
    closest.set(bestDist);
    total = bestTotal;
  }
  return centres;
}

interface Run {
  centres: Float64Array;
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

/**
 * Lloyd's algorithm with Hamerly's bounds (Hamerly 2010, "Making k-means even faster"): per point an
 * upper bound on the distance to its centre and a lower bound on the distance to any other, kept
 * valid as centres move, so once clusters settle most points skip the K distance computations. The
 * result is exactly Lloyd's (same labels and centres), only faster.
 */
function lloyd(
  p: Prepared,
  k: number,
  random: Random,
  maxIterations: number,
  tolerance: number,
  initial?: Float64Array,
): Run {
  const { data, n, dim } = p;
  const centres = initial ? Float64Array.from(initial) : seedPlusPlus(p, k, random);
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const sums = new Float64Array(k * dim);
  const sizes = new Int32Array(k);
  const half = new Float64Array(k); // half the distance from each centre to its nearest other centre
  const moved = new Float64Array(k);
  const next = new Float64Array(k * dim);

  // nearest and second-nearest centre of point i, by a full search
  const search = (i: number): void => {
    let best = 0;
    let d1 = Infinity;
    let d2 = Infinity;
    const o = i * dim;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const b = c * dim;
      for (let j = 0; j < dim; j++) {
        const d = data[o + j] - centres[b + j];
        s += d * d;
      }
      if (s < d1) {
        d2 = d1;
        d1 = s;
        best = c;
      } else if (s < d2) d2 = s;
    }
    labels[i] = best;
    upper[i] = Math.sqrt(d1);
    lower[i] = Math.sqrt(d2);
  };
  const distanceTo = (i: number, c: number): number => {
    let s = 0;
    const o = i * dim;
    const b = c * dim;
    for (let j = 0; j < dim; j++) {
      const d = data[o + j] - centres[b + j];
      s += d * d;
    }
    return Math.sqrt(s);
  };

  for (let i = 0; i < n; i++) search(i);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    // move every centre to the mean of its points
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      sizes[c]++;
      const o = i * dim;
      const b = c * dim;
      for (let j = 0; j < dim; j++) sums[b + j] += data[o + j];
    }
    let maxShift = 0;
    const reseeded: number[] = [];
    for (let c = 0; c < k; c++) {
      const b = c * dim;
      if (sizes[c] === 0) {
        // re-seed an empty cluster with the point farthest (by its bound) from its centre
        let far = -1;
        for (let i = 0; i < n; i++) {
          if ((far < 0 || upper[i] > upper[far]) && !reseeded.includes(i)) far = i;
        }
        reseeded.push(far);
        for (let j = 0; j < dim; j++) next[b + j] = data[far * dim + j];
      } else {
        for (let j = 0; j < dim; j++) next[b + j] = sums[b + j] / sizes[c];
      }
      let m = 0;
      for (let j = 0; j < dim; j++) {
        const d = next[b + j] - centres[b + j];
        m += d * d;
        maxShift = Math.max(maxShift, Math.abs(d));
      }
      moved[c] = Math.sqrt(m);
    }
    centres.set(next);
    // a re-seeding point must be searched again: its bound no longer says anything
    for (const i of reseeded) upper[i] = Infinity;
    if (maxShift <= tolerance && reseeded.length === 0) break;
    // keep the bounds valid after the move
    let r1 = 0;
    for (let c = 1; c < k; c++) if (moved[c] > moved[r1]) r1 = c;
    let r2 = r1 === 0 ? 1 : 0;
    for (let c = 0; c < k; c++) if (c !== r1 && moved[c] > moved[r2]) r2 = c;
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      upper[i] += moved[c];
      lower[i] -= c === r1 ? (k > 1 ? moved[r2] : 0) : moved[r1];
    }
    for (let c = 0; c < k; c++) {
      let m = Infinity;
      for (let c2 = 0; c2 < k; c2++) {
        if (c2 === c) continue;
        let s = 0;
        for (let j = 0; j < dim; j++) {
          const d = centres[c * dim + j] - centres[c2 * dim + j];
          s += d * d;
        }
        if (s < m) m = s;
      }
      half[c] = 0.5 * Math.sqrt(m);
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      const bound = Math.max(half[c], lower[i]);
      if (upper[i] <= bound) continue;
      upper[i] = distanceTo(i, c);
      if (upper[i] <= bound) continue;
      search(i);
      if (labels[i] !== c) changed++;
    }
    if (changed === 0) break;
  }
  // final assignment to the final centres (as scikit-learn does), so every label is the nearest centre
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    search(i);
    inertia += upper[i] * upper[i];
  }
  return { centres, labels, inertia, iterations };
}

/** mean silhouette of `labels` over the sampled points (distances among the sample only) */
function silhouette(p: Prepared, labels: Int32Array, k: number, sample: Int32Array): number {
  const { data, dim } = p;
  const m = sample.length;
  const counts = new Int32Array(k);
  for (let s = 0; s < m; s++) counts[labels[sample[s]]]++;
  const sums = new Float64Array(m * k);
  for (let s = 0; s < m; s++) {
    const i = sample[s];
    for (let t = s + 1; t < m; t++) {
      const j = sample[t];
      let d2 = 0;
      for (let f = 0; f < dim; f++) {
        const d = data[i * dim + f] - data[j * dim + f];
        d2 += d * d;
      }
      const d = Math.sqrt(d2);
      sums[s * k + labels[j]] += d;
      sums[t * k + labels[i]] += d;
    }
  }
  let total = 0;
  for (let s = 0; s < m; s++) {
    const own = labels[sample[s]];
    if (counts[own] <= 1) continue; // a singleton's silhouette is 0
    const a = sums[s * k + own] / (counts[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[s * k + c] / counts[c]);
    if (b === Infinity) continue;
    const den = Math.max(a, b);
    total += den > 0 ? (b - a) / den : 0;
  }
  return total / m;
}

/** a uniform sample of `size` distinct indices of 0..n-1 (partial Fisher-Yates), sorted */
function sampleIndices(n: number, size: number, random: Random): Int32Array {
  if (size >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.min(n - i - 1, Math.floor(random() * (n - i)));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, size).sort();
}

function finish(p: Prepared, run: Run, k: number, sil: number, candidates: KMeansResult['candidates']): KMeansResult {
  const { n, dim, mean, sd, logScale } = p;
  const sizes = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) sizes[run.labels[i]]++;
  const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => sizes[b] - sizes[a] || a - b);
  const relabel = new Int32Array(k);
  order.forEach((c, idx) => (relabel[c] = idx));
  const labels = run.labels.map((c) => relabel[c]);
  const clusters: Cluster[] = order.map((c) => {
    const centre = Array.from(run.centres.subarray(c * dim, c * dim + dim));
    const centreOriginal = centre.map((v, j) => {
      const u = v * sd[j] + mean[j];
      return logScale ? signedExpm1(u) : u;
    });
    return { size: sizes[c], share: sizes[c] / n, centre, centreOriginal };
  });
  return { k, clusters, labels, inertia: run.inertia, silhouette: sil, candidates };
}

/**
 * Cluster the points for every K in [kMin, kMax] and keep the K with the highest sample silhouette
 * (ties to the smaller K).
 */
export function segmentCustomers(points: readonly (readonly number[])[], opts: KMeansOptions): KMeansResult {
  const random = opts.random;
  const kMin = opts.kMin ?? 2;
  const kMax = opts.kMax ?? 8;
  const maxIterations = opts.maxIterations ?? 100;
  const tolerance = opts.tolerance ?? 1e-4;
  const restarts = Math.max(1, opts.restarts ?? 1);
  if (!(Number.isInteger(kMin) && Number.isInteger(kMax) && kMin >= 2 && kMax >= kMin)) {
    throw new RangeError(`need integers 2 <= kMin <= kMax, got ${kMin}, ${kMax}`);
  }
  const p = prepare(points, opts.logScale ?? true);
  if (p.n < kMin + 1) throw new RangeError(`need more than kMin = ${kMin} points, got ${p.n}`);
  const subset = subsetOf(p, sampleIndices(p.n, opts.selectionSample ?? 20_000, random));
  const sample = sampleIndices(subset.n, opts.silhouetteSample ?? 2000, random);
  const candidates: KMeansResult['candidates'] = [];
  let best: { run: Run; k: number; sil: number } | null = null;
  for (let k = kMin; k <= Math.min(kMax, subset.n - 1); k++) {
    let run: Run | null = null;
    for (let r = 0; r < restarts; r++) {
      const attempt = lloyd(subset, k, random, maxIterations, tolerance);
      if (run === null || attempt.inertia < run.inertia) run = attempt;
    }
    const sil = silhouette(subset, run!.labels, k, sample);
    candidates.push({ k, silhouette: sil, inertia: run!.inertia, iterations: run!.iterations });
    if (best === null || sil > best.sil + 1e-12) best = { run: run!, k, sil };
  }
  const chosen = best!;
  const final =
    subset === p ? chosen.run : lloyd(p, chosen.k, random, maxIterations, tolerance, chosen.run.centres);
  return finish(p, final, chosen.k, chosen.sil, candidates);
}

/** the rows at `indices` as their own data set (same transformation), or p itself if that is all of them */
function subsetOf(p: Prepared, indices: Int32Array): Prepared {
  if (indices.length === p.n) return p;
  const data = new Float64Array(indices.length * p.dim);
  for (let s = 0; s < indices.length; s++) data.set(p.data.subarray(indices[s] * p.dim, (indices[s] + 1) * p.dim), s * p.dim);
  return { ...p, data, n: indices.length };
}

/** K-means with a fixed K (same transformation, seeding and reporting as segmentCustomers). */
export function kmeans(points: readonly (readonly number[])[], k: number, opts: KMeansOptions): KMeansResult {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const p = prepare(points, opts.logScale ?? true);
  if (p.n < k) throw new RangeError(`need at least k = ${k} points, got ${p.n}`);
  const restarts = Math.max(1, opts.restarts ?? 1);
  let run: Run | null = null;
  for (let r = 0; r < restarts; r++) {
    const attempt = lloyd(p, k, opts.random, opts.maxIterations ?? 100, opts.tolerance ?? 1e-4);
    if (run === null || attempt.inertia < run.inertia) run = attempt;
  }
  const sil = k >= 2 ? silhouette(p, run!.labels, k, sampleIndices(p.n, opts.silhouetteSample ?? 2000, opts.random)) : 0;
  return finish(p, run!, k, sil, [{ k, silhouette: sil, inertia: run!.inertia, iterations: run!.iterations }]);
}
