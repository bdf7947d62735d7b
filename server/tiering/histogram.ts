/**
 * A counting histogram over integer keys that supports removal, for the channel's RFM cut points.
 *
 * Why not DDSketch (`@datadog/sketches-js`): a buyer's values change (a new order, a refund), so the
 * old value must leave the distribution; DDSketch can add and merge but not remove. This structure
 * is exact over its keys: recency (whole days) and frequency (orders) are exact, and monetary uses
 * logarithmic keys (`moneyKey`, 1% relative width, the DDSketch mapping), so the number of keys
 * stays small (≈ 1,400 for 1 minor unit … 10^12) however many buyers there are. The counts sit in
 * a Fenwick tree over the keys' range: an update, a cut point and a rank each cost O(log range).
 * Memory and time depend on the range of the keys, not on the number of buyers.
 */

export class KeyHistogram {
  /**
   * Counts over the dense key range [offset, offset + size), in a Fenwick (binary indexed) tree, so
   * a count, a prefix sum, a quantile and `countAtLeast` each cost O(log size) instead of a walk
   * over every key: a re-tier after each of a history's orders no longer pays for the whole
   * distribution. `counts` keeps each key's own count. The range grows (doubling) to take a key
   * outside it; the keys of one channel span a few thousand values at most.
   */
  private tree = new Float64Array(0);
  private counts = new Float64Array(0);
  private offset = 0;
  private size = 0;
  private distinct = 0;
  private n = 0;

  get total(): number {
    return this.n;
  }

  get distinctKeys(): number {
    return this.distinct;
  }

  add(key: number, count = 1): void {
    if (!Number.isInteger(key)) throw new Error(`histogram: key ${key} is not an integer`);
    const c = this.size && key >= this.offset && key < this.offset + this.size ? this.counts[key - this.offset]! : 0;
    if (c + count < 0) throw new Error(`histogram: removing key ${key} that is not there`);
    if (count === 0) return;
    this.cover(key);
    const i = key - this.offset;
    this.counts[i] = c + count;
    if (c === 0) this.distinct++;
    else if (c + count === 0) this.distinct--;
    for (let j = i + 1; j <= this.size; j += j & -j) this.tree[j - 1]! += count;
    this.n += count;
  }

  remove(key: number): void {
    this.add(key, -1);
  }

  /** grows the range to hold `key` (rebuilding the tree from the counts) */
  private cover(key: number): void {
    if (this.size && key >= this.offset && key < this.offset + this.size) return;
    const lo = this.size ? Math.min(this.offset, key) : key;
    const hi = this.size ? Math.max(this.offset + this.size, key + 1) : key + 1;
    let size = Math.max(16, this.size * 2);
    while (size < hi - lo) size *= 2;
    // room on the side it grew toward, so a run of new keys rebuilds rarely
    const offset = key < (this.size ? this.offset : key + 1) ? hi - size : lo;
    const counts = new Float64Array(size);
    for (let i = 0; i < this.size; i++) counts[this.offset + i - offset] = this.counts[i]!;
    const tree = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      tree[i]! += counts[i]!;
      const parent = i + ((i + 1) & -(i + 1));
      if (parent < size) tree[parent]! += tree[i]!;
    }
    this.counts = counts;
    this.tree = tree;
    this.offset = offset;
    this.size = size;
  }

  /** the sum of the counts of the first `i` positions of the range */
  private prefix(i: number): number {
    let sum = 0;
    for (let j = Math.min(i, this.size); j > 0; j -= j & -j) sum += this.tree[j - 1]!;
    return sum;
  }

  /** the smallest position whose prefix sum (itself included) reaches `target` (≥ 1, ≤ n) */
  private lowerBound(target: number): number {
    let pos = 0;
    let rest = target;
    for (let step = 1 << Math.floor(Math.log2(this.size)); step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.size && this.tree[next - 1]! < rest) {
        pos = next;
        rest -= this.tree[next - 1]!;
      }
    }
    return pos; // 0-based position of the key
  }

  /**
   * Nearest-rank quantiles: for each p (ascending, in (0, 1]) the smallest key whose cumulative
   * count reaches ceil(p · n). Empty histogram → [].
   */
  quantiles(ps: readonly number[]): number[] {
    if (this.n === 0) return [];
    return ps.map((p) => this.offset + this.lowerBound(Math.min(this.n, Math.max(1, Math.ceil(p * this.n - 1e-9)))));
  }

  /** how many entries have a key ≥ `key` */
  countAtLeast(key: number): number {
    if (!this.size || key <= this.offset) return this.n;
    return this.n - this.prefix(key - this.offset);
  }
}

/** relative width of a monetary key (the DDSketch logarithmic mapping with γ = 1.01) */
const GAMMA = 1.01;
const LOG_GAMMA = Math.log(GAMMA);

/** Key of a money amount (minor units, > 0): ceil(log_γ(amount)). Amounts within 1% share a key. */
export function moneyKey(amount: number): number {
  return amount <= 1 ? 0 : Math.ceil(Math.log(amount) / LOG_GAMMA - 1e-9);
}

/** The upper bound of a monetary key's range, in whole minor units (the value reported for a cut point). */
export function moneyOfKey(key: number): number {
  return key <= 0 ? 1 : Math.round(Math.exp(key * LOG_GAMMA));
}
