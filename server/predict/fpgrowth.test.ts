/**
 * FP-growth and association rules: the mlxtend documentation's example (fpgrowth and
 * association_rules pages: min support 0.6 gives 11 itemsets; confidence >= 0.7 gives 12 rules), and a
 * brute-force miner on small random baskets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from '../../test/helpers/property.js';
import { associationRules, frequentItemsets, type FrequentItemset } from './fpgrowth.js';

const dataset = [
  ['Milk', 'Onion', 'Nutmeg', 'Kidney Beans', 'Eggs', 'Yogurt'],
  ['Dill', 'Onion', 'Nutmeg', 'Kidney Beans', 'Eggs', 'Yogurt'],
  ['Milk', 'Apple', 'Kidney Beans', 'Eggs'],
  ['Milk', 'Unicorn', 'Corn', 'Kidney Beans', 'Yogurt'],
  ['Corn', 'Onion', 'Onion', 'Kidney Beans', 'Ice cream', 'Eggs'],
];

const key = (items: readonly string[]): string => [...items].sort().join('|');

describe('the mlxtend example', () => {
  const itemsets = frequentItemsets(dataset, { minSupport: 0.6 });

  it('has 11 frequent itemsets at support 0.6', () => {
    expect(itemsets).toHaveLength(11);
    const support = new Map(itemsets.map((s) => [key(s.items), s.support]));
    expect(support.get('Kidney Beans')).toBe(1);
    expect(support.get('Eggs')).toBe(0.8);
    expect(support.get('Eggs|Kidney Beans')).toBe(0.8);
    for (const k of ['Milk', 'Onion', 'Yogurt', 'Eggs|Onion', 'Kidney Beans|Milk', 'Kidney Beans|Onion', 'Kidney Beans|Yogurt', 'Eggs|Kidney Beans|Onion']) {
      expect(support.get(k), k).toBe(0.6);
    }
    // the duplicate Onion in the last basket counts once
    expect(itemsets[0]).toEqual({ items: ['Kidney Beans'], count: 5, support: 1 });
  });

  it('has 12 rules at confidence 0.7, with mlxtend\'s metrics', () => {
    const rules = associationRules(itemsets, { minConfidence: 0.7 });
    expect(rules).toHaveLength(12);
    const find = (a: string[], c: string[]) => rules.find((r) => key(r.antecedent) === key(a) && key(r.consequent) === key(c));
    // mlxtend: (Eggs, Onion) -> (Kidney Beans): support 0.6, confidence 1.0, lift 1.0
    expect(find(['Eggs', 'Onion'], ['Kidney Beans'])).toMatchObject({ support: 0.6, confidence: 1, lift: 1 });
    // (Onion) -> (Eggs, Kidney Beans): confidence 1.0, lift 1.25, leverage 0.12
    const r = find(['Onion'], ['Eggs', 'Kidney Beans'])!;
    expect(r.confidence).toBe(1);
    expect(r.lift).toBeCloseTo(1.25, 12);
    expect(r.leverage).toBeCloseTo(0.12, 12);
    // (Kidney Beans) -> (Eggs): 0.8; (Eggs) -> (Onion): 0.75 (lift 1.25); (Kidney Beans) -> (Onion): 0.6, left out
    expect(find(['Kidney Beans'], ['Eggs'])!.confidence).toBeCloseTo(0.8, 12);
    expect(find(['Eggs'], ['Onion'])!.lift).toBeCloseTo(1.25, 12);
    expect(find(['Kidney Beans'], ['Onion'])).toBeUndefined();
    const all = associationRules(itemsets);
    expect(all).toHaveLength(2 * 5 + 6); // five pairs both ways, one triple six ways
    expect(associationRules(itemsets, { minLift: 1.2 }).every((x) => x.lift >= 1.2)).toBe(true);
  });

  it('respects maxLength and rejects a bad support', () => {
    expect(frequentItemsets(dataset, { minSupport: 0.6, maxLength: 1 })).toHaveLength(5);
    expect(frequentItemsets(dataset, { minSupport: 0.6, maxLength: 2 })).toHaveLength(10);
    expect(() => frequentItemsets(dataset, { minSupport: 0 })).toThrow(RangeError);
    expect(frequentItemsets([], { minSupport: 0.5 })).toEqual([]);
  });
});

/** every subset of the alphabet, counted over the baskets */
function bruteForce(baskets: string[][], minSupport: number): Map<string, number> {
  const alphabet = [...new Set(baskets.flat())].sort();
  const sets = baskets.map((b) => new Set(b));
  const minCount = Math.max(1, Math.ceil(minSupport * baskets.length - 1e-9));
  const out = new Map<string, number>();
  for (let mask = 1; mask < 1 << alphabet.length; mask++) {
    const items = alphabet.filter((_, i) => mask & (1 << i));
    const count = sets.filter((s) => items.every((it) => s.has(it))).length;
    if (count >= minCount) out.set(key(items), count);
  }
  return out;
}

describe('FP-growth against brute force', () => {
  const baskets = fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), { maxLength: 7 }), {
    minLength: 1,
    maxLength: 14,
  });
  const support = fc.constantFrom(0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.6, 1);

  it('finds exactly the frequent itemsets with their counts', () => {
    fc.assert(
      fc.property(baskets, support, (bs, s) => {
        const got = frequentItemsets(bs, { minSupport: s });
        const want = bruteForce(bs, s);
        expect(new Map(got.map((g) => [key(g.items), g.count]))).toEqual(want);
        expect(got.length).toBe(want.size); // no duplicates
        for (const g of got) expect(g.support).toBe(g.count / bs.length);
      }),
      { numRuns: runs(300) },
    );
  });

  it('derives every rule with the right confidence and lift', () => {
    fc.assert(
      fc.property(baskets, support, fc.constantFrom(0, 0.5, 0.8, 1), (bs, s, minConfidence) => {
        const itemsets: FrequentItemset[] = frequentItemsets(bs, { minSupport: s });
        const rules = associationRules(itemsets, { minConfidence });
        const count = bruteForce(bs, 0.000001);
        const n = bs.length;
        let expected = 0;
        for (const it of itemsets) {
          const k = it.items.length;
          for (let mask = 1; mask < (1 << k) - 1; mask++) {
            const a = it.items.filter((_, i) => mask & (1 << i));
            if (it.count / count.get(key(a))! >= minConfidence - 1e-12) expected++;
          }
        }
        expect(rules.length).toBe(expected);
        for (const r of rules) {
          const both = count.get(key([...r.antecedent, ...r.consequent]))!;
          const ca = count.get(key(r.antecedent))!;
          const cc = count.get(key(r.consequent))!;
          expect(r.confidence).toBeCloseTo(both / ca, 12);
          expect(r.lift).toBeCloseTo(both / ca / (cc / n), 12);
          expect(r.support).toBeCloseTo(both / n, 12);
          expect(r.antecedent.some((x) => r.consequent.includes(x))).toBe(false);
        }
      }),
      { numRuns: runs(100) },
    );
  });
});
