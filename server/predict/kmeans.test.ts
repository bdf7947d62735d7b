import { describe, expect, it } from 'vitest';
import { kmeans, segmentCustomers } from './kmeans.js';
import { seededRandom, type Random } from './rng.js';

/** standard normal by Box-Muller */
const normal = (random: Random): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/**
 * Customers as (days since last order, orders, spend): three groups of exact sizes, each log-normal
 * around its centre with spread 0.25 (in log units), far apart on the log scale.
 */
function threeGroups(sizes: number[], seed: number): number[][] {
  const centres = [
    [200, 1, 20],
    [30, 6, 90],
    [4, 40, 900],
  ];
  const random = seededRandom(seed);
  const points: number[][] = [];
  sizes.forEach((n, g) => {
    for (let i = 0; i < n; i++) points.push(centres[g].map((c) => Math.exp(Math.log(c) + 0.25 * normal(random))));
  });
  // shuffle, so the order says nothing
  for (let i = points.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [points[i], points[j]] = [points[j], points[i]];
  }
  return points;
}

describe('segmentCustomers', () => {
  const points = threeGroups([1500, 900, 600], 11);

  it('finds the three groups, with their shares, by the silhouette', () => {
    const res = segmentCustomers(points, { random: seededRandom(1) });
    expect(res.k).toBe(3);
    expect(res.clusters.map((c) => c.size)).toEqual([1500, 900, 600]);
    expect(res.clusters.map((c) => c.share)).toEqual([0.5, 0.3, 0.2]);
    expect(res.candidates.map((c) => c.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const best = Math.max(...res.candidates.map((c) => c.silhouette));
    expect(res.silhouette).toBe(best);
    expect(res.silhouette).toBeGreaterThan(0.7);
    // centres back in the original units: the groups' typical members (geometric means)
    const [big, mid, small] = res.clusters.map((c) => c.centreOriginal);
    expect(big[0]).toBeGreaterThan(150);
    expect(big[0]).toBeLessThan(260);
    expect(mid[1]).toBeGreaterThan(4);
    expect(mid[1]).toBeLessThan(8.5);
    expect(small[2]).toBeGreaterThan(700);
    expect(small[2]).toBeLessThan(1150);
    // every point labelled with its cluster, largest first
    const counts = [0, 0, 0];
    for (const l of res.labels) counts[l]++;
    expect(counts).toEqual([1500, 900, 600]);
  });

  it('is deterministic for a seed', () => {
    const a = segmentCustomers(points, { random: seededRandom(5) });
    const b = segmentCustomers(points, { random: seededRandom(5) });
    expect(b.labels).toEqual(a.labels);
    expect(b.candidates).toEqual(a.candidates);
    expect(b.clusters).toEqual(a.clusters);
  });

  it('chooses K on a subset and refines on all points, with the same answer', () => {
    const many = threeGroups([6000, 3600, 2400], 3);
    const res = segmentCustomers(many, { random: seededRandom(2), selectionSample: 2000, silhouetteSample: 500 });
    expect(res.k).toBe(3);
    expect(res.clusters.map((c) => c.share)).toEqual([0.5, 0.3, 0.2]);
    expect(res.labels).toHaveLength(12_000);
  });

  it('validates its input', () => {
    expect(() => segmentCustomers([[1], [2]], { random: seededRandom(1) })).toThrow(RangeError);
    expect(() => segmentCustomers([[1, 2], [3]], { random: seededRandom(1) })).toThrow(RangeError);
    expect(() => segmentCustomers([[1], [2], [NaN]], { random: seededRandom(1) })).toThrow(RangeError);
    expect(() => segmentCustomers(points, { random: seededRandom(1), kMin: 1 })).toThrow(RangeError);
  });
});

describe('kmeans with a fixed K', () => {
  it('puts identical points together and handles a constant feature', () => {
    const pts = [
      ...Array.from({ length: 10 }, () => [1, 5]),
      ...Array.from({ length: 5 }, () => [1000, 5]),
    ];
    const res = kmeans(pts, 2, { random: seededRandom(3) });
    expect(res.clusters.map((c) => c.size)).toEqual([10, 5]);
    expect(res.inertia).toBeCloseTo(0, 12);
    expect(res.silhouette).toBeCloseTo(1, 12);
    expect(res.clusters[0].centreOriginal[0]).toBeCloseTo(1, 9);
    expect(res.clusters[1].centreOriginal[0]).toBeCloseTo(1000, 6);
    expect(res.clusters[0].centreOriginal[1]).toBeCloseTo(5, 9);
  });

  it('survives more clusters than distinct points (empty clusters re-seeded)', () => {
    const pts = [...Array.from({ length: 6 }, () => [2]), ...Array.from({ length: 6 }, () => [50])];
    const res = kmeans(pts, 4, { random: seededRandom(9) });
    expect(res.clusters.reduce((s, c) => s + c.size, 0)).toBe(12);
    expect(res.inertia).toBeCloseTo(0, 12);
    for (const c of res.clusters) expect(c.centre.every(Number.isFinite)).toBe(true);
  });

  it('matches a brute-force silhouette on a small set', () => {
    const pts = threeGroups([12, 8, 5], 21);
    const res = kmeans(pts, 3, { random: seededRandom(4) });
    // recompute in the same transformed space from the returned centres' labels
    const t = pts.map((p) => p.map((v) => Math.log1p(v)));
    const dim = t[0].length;
    const mean = Array.from({ length: dim }, (_, j) => t.reduce((s, p) => s + p[j], 0) / t.length);
    const sd = Array.from({ length: dim }, (_, j) => Math.sqrt(t.reduce((s, p) => s + (p[j] - mean[j]) ** 2, 0) / t.length));
    const z = t.map((p) => p.map((v, j) => (v - mean[j]) / sd[j]));
    const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, j) => s + (v - b[j]) ** 2, 0));
    let total = 0;
    for (let i = 0; i < z.length; i++) {
      const mine = res.labels[i];
      const meanTo = (c: number) => {
        const others = z.filter((_, j) => res.labels[j] === c && j !== i);
        return others.reduce((s, p) => s + dist(z[i], p), 0) / others.length;
      };
      const a = meanTo(mine);
      const b = Math.min(...[0, 1, 2].filter((c) => c !== mine).map(meanTo));
      total += (b - a) / Math.max(a, b);
    }
    expect(res.silhouette).toBeCloseTo(total / z.length, 12);
  });
});
