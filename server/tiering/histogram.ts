/**
 * A counting histogram over integer keys that supports removal, for the channel's RFM cut points.
 *
 * Why not DDSketch (`@datadog/sketches-js`): a buyer's values change (a new order, a refund), so the
 * old value must leave the distribution; DDSketch can add and merge but not remove. This structure
 * is exact over its keys: recency (whole days) and frequency (orders) are exact, and monetary uses
 * logarithmic keys (`moneyKey`, 1% relative width, the DDSketch mapping), so the number of keys
 * stays small (≈ 1,400 for 1 minor unit … 10^12) however many buyers there are. An update costs a
 * map update and, for a key not seen before, one binary-search insert into the sorted key array;
 * cut points are one walk over the keys, recomputed only after a change. Memory and time depend on
 * the number of distinct keys, not on the number of buyers.
 */

export class KeyHistogram {
  private readonly counts = new Map<number, number>();
  /** distinct keys with a count > 0, ascending */
  private keys: number[] = [];
  private n = 0;

  get total(): number {
    return this.n;
  }

  get distinctKeys(): number {
    return this.keys.length;
  }

  add(key: number, count = 1): void {
    const c = this.counts.get(key) ?? 0;
    if (c + count < 0) throw new Error(`histogram: removing key ${key} that is not there`);
    if (c + count === 0) {
      this.counts.delete(key);
      this.keys.splice(this.find(key), 1);
    } else {
      this.counts.set(key, c + count);
      if (c === 0) this.keys.splice(this.find(key), 0, key);
    }
    this.n += count;
  }

  remove(key: number): void {
    this.add(key, -1);
  }

  /** index of `key` in `keys`, or where it would be inserted */
  private find(key: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Nearest-rank quantiles: for each p (ascending, in (0, 1]) the smallest key whose cumulative
   * count reaches ceil(p · n). One walk over the keys. Empty histogram → [].
   */
  quantiles(ps: readonly number[]): number[] {
    if (this.n === 0) return [];
    const out: number[] = [];
    let cum = 0;
    let i = 0;
    for (const key of this.keys) {
      cum += this.counts.get(key)!;
      while (i < ps.length && cum >= Math.max(1, Math.ceil(ps[i]! * this.n - 1e-9))) {
        out.push(key);
        i++;
      }
      if (i === ps.length) break;
    }
    return out;
  }

  /** how many entries have a key ≥ `key` */
  countAtLeast(key: number): number {
    let c = 0;
    for (let i = this.find(key); i < this.keys.length; i++) c += this.counts.get(this.keys[i]!)!;
    return c;
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
