/**
 * Frequent itemsets by FP-growth (Han, Pei & Yin 2000, "Mining Frequent Patterns without Candidate
 * Generation", SIGMOD) and association rules with support, confidence, lift and leverage (Agrawal,
 * Imielinski & Swami 1993; the definitions of mlxtend's association_rules).
 *
 * Each basket counts an item once, however often it lists it. An itemset is frequent when the
 * number of baskets containing it is at least minSupport * baskets (compared in integer counts, with a
 * 1e-9 allowance so 0.6 * 5 means 3 and not 3.0000000000000004); rules keep confidence >= minConfidence
 * (and lift >= minLift) up to a 1e-12 allowance for the same reason. Items are ranked by descending
 * count, ties by name, so the tree, the mining order and the output are deterministic. Output
 * itemsets list their items sorted by name; the list is sorted by descending support, then size,
 * then items.
 */

export interface FrequentItemset {
  items: string[];
  /** baskets containing every item */
  count: number;
  /** count / baskets */
  support: number;
}

export interface FrequentItemsetOptions {
  /** fraction of baskets, in (0, 1] */
  minSupport: number;
  /** longest itemset to report (default: no limit) */
  maxLength?: number;
}

interface FpNode {
  item: number;
  count: number;
  parent: FpNode | null;
  children: Map<number, FpNode>;
}

interface FpTree {
  root: FpNode;
  /** nodes of each item (by rank), for the conditional pattern bases */
  nodes: FpNode[][];
}

function newNode(item: number, parent: FpNode | null): FpNode {
  return { item, count: 0, parent, children: new Map() };
}

/** insert a path of item ranks (ascending rank = descending frequency) with a multiplicity */
function insert(tree: FpTree, path: readonly number[], count: number): void {
  let node = tree.root;
  for (const item of path) {
    let child = node.children.get(item);
    if (!child) {
      child = newNode(item, node);
      node.children.set(item, child);
      tree.nodes[item].push(child);
    }
    child.count += count;
    node = child;
  }
}

function emptyTree(items: number): FpTree {
  return { root: newNode(-1, null), nodes: Array.from({ length: items }, () => []) };
}

const ALLOWANCE = 1e-9;

/** Frequent itemsets of the baskets at the given minimum support. */
export function frequentItemsets(
  baskets: readonly (readonly string[])[],
  opts: FrequentItemsetOptions,
): FrequentItemset[] {
  const { minSupport } = opts;
  const maxLength = opts.maxLength ?? Infinity;
  if (!(minSupport > 0 && minSupport <= 1)) throw new RangeError(`minSupport must be in (0, 1], got ${minSupport}`);
  if (!(maxLength >= 1)) throw new RangeError(`maxLength must be >= 1, got ${maxLength}`);
  const n = baskets.length;
  if (n === 0) return [];
  const minCount = Math.max(1, Math.ceil(minSupport * n - ALLOWANCE));
  const unique = baskets.map((b) => [...new Set(b)]);
  const counts = new Map<string, number>();
  for (const b of unique) for (const item of b) counts.set(item, (counts.get(item) ?? 0) + 1);
  const frequent = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((p, q) => q[1] - p[1] || (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
  const names = frequent.map(([name]) => name);
  const rank = new Map(names.map((name, i) => [name, i]));
  const tree = emptyTree(names.length);
  for (const b of unique) {
    const path = b.filter((item) => rank.has(item)).map((item) => rank.get(item)!);
    path.sort((p, q) => p - q);
    if (path.length > 0) insert(tree, path, 1);
  }
  const found: { items: number[]; count: number }[] = [];
  const mine = (t: FpTree, suffix: number[]): void => {
    // least frequent first, so each conditional base holds only more frequent items
    for (let item = t.nodes.length - 1; item >= 0; item--) {
      const list = t.nodes[item];
      if (list.length === 0) continue;
      let support = 0;
      for (const node of list) support += node.count;
      if (support < minCount) continue;
      const itemset = [item, ...suffix];
      found.push({ items: itemset, count: support });
      if (itemset.length >= maxLength) continue;
      // conditional pattern base: the prefix paths of the item's nodes
      const base: { path: number[]; count: number }[] = [];
      const local = new Map<number, number>();
      for (const node of list) {
        const path: number[] = [];
        for (let p = node.parent; p !== null && p.item >= 0; p = p.parent) path.push(p.item);
        if (path.length === 0) continue;
        path.reverse();
        base.push({ path, count: node.count });
        for (const i of path) local.set(i, (local.get(i) ?? 0) + node.count);
      }
      if (base.length === 0) continue;
      const cond = emptyTree(item);
      let any = false;
      for (const { path, count } of base) {
        const kept = path.filter((i) => local.get(i)! >= minCount);
        if (kept.length > 0) {
          insert(cond, kept, count);
          any = true;
        }
      }
      if (any) mine(cond, itemset);
    }
  };
  mine(tree, []);
  const out = found.map(({ items, count }) => ({
    items: items.map((i) => names[i]).sort(),
    count,
    support: count / n,
  }));
  out.sort((p, q) => q.count - p.count || p.items.length - q.items.length || compareItems(p.items, q.items));
  return out;
}

function compareItems(p: readonly string[], q: readonly string[]): number {
  for (let i = 0; i < Math.min(p.length, q.length); i++) {
    if (p[i] !== q[i]) return p[i] < q[i] ? -1 : 1;
  }
  return p.length - q.length;
}

export interface AssociationRule {
  antecedent: string[];
  consequent: string[];
  antecedentSupport: number;
  consequentSupport: number;
  /** support of antecedent and consequent together */
  support: number;
  /** support / antecedentSupport */
  confidence: number;
  /** confidence / consequentSupport */
  lift: number;
  /** support - antecedentSupport * consequentSupport */
  leverage: number;
  count: number;
}

export interface AssociationRuleOptions {
  /** default 0 */
  minConfidence?: number;
  /** default 0 */
  minLift?: number;
}

const keyOf = (items: readonly string[]): string => items.join('\u0000');

/**
 * Every rule A -> C with A, C non-empty, disjoint and A u C one of the frequent itemsets (whose
 * subsets are then frequent too, so their supports are known). Sorted by descending confidence,
 * then lift, then antecedent and consequent.
 */
export function associationRules(itemsets: readonly FrequentItemset[], opts: AssociationRuleOptions = {}): AssociationRule[] {
  const minConfidence = opts.minConfidence ?? 0;
  const minLift = opts.minLift ?? 0;
  const support = new Map<string, number>();
  for (const s of itemsets) support.set(keyOf([...s.items].sort()), s.support);
  const out: AssociationRule[] = [];
  for (const s of itemsets) {
    const items = [...s.items].sort();
    const k = items.length;
    if (k < 2) continue;
    if (k > 30) throw new RangeError('associationRules: itemsets longer than 30 items are not enumerated');
    for (let mask = 1; mask < (1 << k) - 1; mask++) {
      const ante: string[] = [];
      const cons: string[] = [];
      for (let i = 0; i < k; i++) (mask & (1 << i) ? ante : cons).push(items[i]);
      const sa = support.get(keyOf(ante));
      const sc = support.get(keyOf(cons));
      if (sa === undefined || sc === undefined) {
        throw new RangeError('associationRules needs every subset of each itemset (pass the full frequentItemsets output)');
      }
      const confidence = s.support / sa;
      const lift = confidence / sc;
      if (confidence < minConfidence - 1e-12 || lift < minLift - 1e-12) continue;
      out.push({
        antecedent: ante,
        consequent: cons,
        antecedentSupport: sa,
        consequentSupport: sc,
        support: s.support,
        confidence,
        lift,
        leverage: s.support - sa * sc,
        count: s.count,
      });
    }
  }
  out.sort(
    (p, q) =>
      q.confidence - p.confidence ||
      q.lift - p.lift ||
      compareItems(p.antecedent, q.antecedent) ||
      compareItems(p.consequent, q.consequent),
  );
  return out;
}
