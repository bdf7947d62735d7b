/**
 * The model fit's messages as columns (./fitter.ts ⇄ ./fit-worker.ts). A channel's history is
 * hundreds of thousands of purchases: posted as objects, the structured clone copies each one on
 * the event loop that serves viewers (≈ 0.4 µs an object, a 300 ms stall for 100× CDNOW), and the
 * worker's answer costs as much to read back. As columns, the numbers travel in typed arrays
 * whose buffers are transferred (no copy) and the strings as one string each (one copy), so both
 * sides spend a few milliseconds. Pure; no I/O.
 *
 * Viewer ids never hold U+0000 (the API's pattern refuses it), so it separates them; SKUs are
 * whatever the merchant sent, so they travel as one JSON array.
 */
import type { ModelPurchase, StoredPrediction } from './channel-model.js';

const SEP = '\u0000';

export interface PurchaseColumns {
  /** the viewer ids, SEP-joined; the other columns index them */
  viewers: string;
  viewer: Int32Array;
  amount: Float64Array;
  at: Float64Array;
  /** the SKUs seen, as a JSON array; purchase i's are skuIndex[skuStart[i] … skuStart[i + 1]) (skuStart -1: no `skus`) */
  skus: string;
  skuStart: Int32Array;
  skuIndex: Int32Array;
  /** the engagement points of viewer j (NaN: none given) */
  engagement: Float64Array;
}

const split = (s: string) => (s === '' ? [] : s.split(SEP));

/** purchases and buyers' engagement as columns, and the buffers to transfer */
export function encodePurchases(purchases: readonly ModelPurchase[], engagement: readonly [string, number][]): { columns: PurchaseColumns; transfer: ArrayBuffer[] } {
  const e = new PurchaseEncoder(purchases.length);
  e.add(purchases, 0, purchases.length);
  return e.finish(engagement);
}

/**
 * The same, a slice at a time with a turn of the event loop between slices (ModelFitter): no
 * slice of a big history holds the loop for more than a few milliseconds.
 */
export async function encodePurchasesInSlices(purchases: readonly ModelPurchase[], engagement: readonly [string, number][], slice = 20_000) {
  const e = new PurchaseEncoder(purchases.length);
  for (let from = 0; from < purchases.length; from += slice) {
    e.add(purchases, from, Math.min(purchases.length, from + slice));
    if (from + slice < purchases.length) await new Promise((r) => setImmediate(r));
  }
  return e.finish(engagement);
}

class PurchaseEncoder {
  private readonly ids = new Map<string, number>();
  private readonly skuIds = new Map<string, number>();
  private readonly skuList: number[] = [];
  private readonly viewer: Int32Array;
  private readonly amount: Float64Array;
  private readonly at: Float64Array;
  private readonly skuStart: Int32Array;

  constructor(private readonly n: number) {
    this.viewer = new Int32Array(n);
    this.amount = new Float64Array(n);
    this.at = new Float64Array(n);
    this.skuStart = new Int32Array(n + 1);
  }

  private idOf(v: string): number {
    let i = this.ids.get(v);
    if (i === undefined) this.ids.set(v, (i = this.ids.size));
    return i;
  }

  add(purchases: readonly ModelPurchase[], from: number, to: number): void {
    const { skuIds, skuList } = this;
    for (let i = from; i < to; i++) {
      const p = purchases[i]!;
      this.viewer[i] = this.idOf(p.viewerId);
      this.amount[i] = p.amount;
      this.at[i] = p.at;
      if (p.skus) {
        this.skuStart[i] = skuList.length;
        for (const s of p.skus) {
          let k = skuIds.get(s);
          if (k === undefined) skuIds.set(s, (k = skuIds.size));
          skuList.push(k);
        }
      } else this.skuStart[i] = -1 - skuList.length; // no `skus` (not an empty list): kept apart
    }
  }

  finish(engagement: readonly [string, number][]): { columns: PurchaseColumns; transfer: ArrayBuffer[] } {
    this.skuStart[this.n] = this.skuList.length;
    for (const [v] of engagement) this.idOf(v);
    const eng = new Float64Array(this.ids.size).fill(NaN);
    for (const [v, points] of engagement) eng[this.ids.get(v)!] = points;
    const skuIndex = Int32Array.from(this.skuList);
    const { viewer, amount, at, skuStart } = this;
    const columns: PurchaseColumns = {
      viewers: [...this.ids.keys()].join(SEP), viewer, amount, at, skus: JSON.stringify([...this.skuIds.keys()]), skuStart, skuIndex, engagement: eng,
    };
    return { columns, transfer: [viewer.buffer, amount.buffer, at.buffer, skuStart.buffer, skuIndex.buffer, eng.buffer] as ArrayBuffer[] };
  }
}

/** where purchase i's SKUs start in skuIndex, and whether it has any list */
function skuFrom(start: Int32Array, i: number): { has: boolean; from: number } {
  const s = start[i]!;
  return s >= 0 ? { has: true, from: s } : { has: false, from: -1 - s };
}

export function decodePurchases(c: PurchaseColumns): { purchases: ModelPurchase[]; engagement: Map<string, number> } {
  const viewers = split(c.viewers);
  const skus = JSON.parse(c.skus) as string[];
  const n = c.viewer.length;
  const purchases: ModelPurchase[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const p: ModelPurchase = { viewerId: viewers[c.viewer[i]!]!, amount: c.amount[i]!, at: c.at[i]! };
    const { has, from } = skuFrom(c.skuStart, i);
    if (has) {
      const to = i + 1 < n ? skuFrom(c.skuStart, i + 1).from : c.skuStart[n]!;
      p.skus = Array.from(c.skuIndex.subarray(from, to), (k) => skus[k]!);
    }
    purchases[i] = p;
  }
  const engagement = new Map<string, number>();
  for (let j = 0; j < c.engagement.length; j++) if (!Number.isNaN(c.engagement[j]!)) engagement.set(viewers[j]!, c.engagement[j]!);
  return { purchases, engagement };
}

export interface PredictionColumns {
  viewers: string;
  pAlive: Float64Array;
  clv365d: Float64Array;
}

export function encodePredictions(predictions: readonly StoredPrediction[]): { columns: PredictionColumns; transfer: ArrayBuffer[] } {
  const pAlive = Float64Array.from(predictions, (p) => p.pAlive);
  const clv365d = Float64Array.from(predictions, (p) => p.clv365d);
  return { columns: { viewers: predictions.map((p) => p.viewerId).join(SEP), pAlive, clv365d }, transfer: [pAlive.buffer, clv365d.buffer] as ArrayBuffer[] };
}

export function decodePredictions(c: PredictionColumns): StoredPrediction[] {
  const viewers = split(c.viewers);
  return viewers.map((viewerId, i) => ({ viewerId, pAlive: c.pAlive[i]!, clv365d: c.clv365d[i]! }));
}

/** the same, a slice at a time with a turn of the event loop between slices */
export async function decodePredictionsInSlices(c: PredictionColumns, slice = 50_000): Promise<StoredPrediction[]> {
  const viewers = split(c.viewers);
  const out: StoredPrediction[] = new Array(viewers.length);
  for (let from = 0; from < viewers.length; from += slice) {
    const to = Math.min(viewers.length, from + slice);
    for (let i = from; i < to; i++) out[i] = { viewerId: viewers[i]!, pAlive: c.pAlive[i]!, clv365d: c.clv365d[i]! };
    if (to < viewers.length) await new Promise((r) => setImmediate(r));
  }
  return out;
}
