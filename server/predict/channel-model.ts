/**
 * A channel's predictive model, from its verified purchase histories (net of refunds): BG/NBD for
 * repeat purchases and the chance a buyer is still active, Gamma-Gamma for the value of an order.
 * Pure: the caller passes the purchases and `now`; the fit runs in a worker thread (./fit-worker.ts).
 *
 * The rule for a model: at least `minBuyers` buyers (default 200) of whom at least
 * `MIN_REPEAT_BUYERS` bought on two or more days. Below that, `status: 'insufficient_data'` and
 * the channel runs on its RFM rules only. Gamma-Gamma needs as many repeat buyers with a positive
 * spend; without them `gammaGamma` is null and an order's expected value is the channel's mean order.
 * Time is counted in weeks (the literature's unit, and the one the CDNOW reference values use).
 */
import { fitBgNbd, pAlive, type BgNbdParams } from './bgnbd.js';
import { fitGammaGamma, type GammaGammaParams } from './gammagamma.js';
import { viewerValue } from './clv.js';
import { associationRules, frequentItemsets } from './fpgrowth.js';
import { findSegments, type Segments } from './segments.js';
import { summarize, type Purchase, type TimeUnit } from './summary.js';

export const DEFAULT_MIN_BUYERS = 200;
export const MIN_REPEAT_BUYERS = 20;
export const MODEL_UNIT: TimeUnit = 'week';
/**
 * An unpenalized BG/NBD fit whose parameters run off past this (the data cannot tell the buyers'
 * differences apart, e.g. a = 4.5e12, b = 2.6e13) is fitted again with a small L2 penalty
 * (lifetimes' penalizer_coef): the likelihood barely moves, and the hypergeometric series of the
 * predictions stays fast (near the boundary one viewer's prediction took a second).
 */
const MAX_PARAMETER = 1_000;
export const STABILIZING_PENALIZER = 1e-4;

export type ModelStatus = 'fitted' | 'insufficient_data' | 'fitting';

export interface ChannelModel {
  status: Exclude<ModelStatus, 'fitting'>;
  fittedAt: number;
  /** distinct buyers with a purchase of positive net amount */
  buyers: number;
  /** of them, those who bought on two or more days */
  repeatBuyers: number;
  bgnbd: (BgNbdParams & { logLikelihood: number }) | null;
  gammaGamma: GammaGammaParams | null;
  /** mean net value of one purchase day over all buyers (minor units): the fallback order value */
  meanOrderValue: number;
  minBuyers: number;
  /** how long the fit took (ms), for operators */
  fitMs: number;
  /** the L2 penalty of the BG/NBD fit: 0, or STABILIZING_PENALIZER when the plain fit ran off */
  penalizer?: number;
  /** frequently-bought-together rules, mined with the model */
  crossSell?: CrossSell;
  /** the segments of buyers K-means finds (null: too few buyers) */
  segments?: Segments | null;
  /** the buyers' predicted 12-month values at the fit, ascending, at the 0th, 1st, …, 100th percentile (a tier rule ranks by it) */
  clvPercentiles?: number[];
}

export interface ModelPurchase {
  viewerId: string;
  /** net of refunds, minor units */
  amount: number;
  at: number;
  /** the order's SKUs (cross-sell rules) */
  skus?: string[];
}

/** "buyers of `if` also buy `then`": a rule mined from the channel's verified orders */
export interface CrossSellRule {
  if: string[];
  then: string[];
  /** share of the orders with items that hold both */
  support: number;
  /** share of the orders holding `if` that also hold `then` */
  confidence: number;
  /** confidence ÷ the share of orders holding `then` */
  lift: number;
  /** orders holding both */
  orders: number;
}

export interface CrossSell {
  fittedAt: number;
  /** orders with at least one SKU, the baskets mined */
  orders: number;
  minSupport: number;
  minConfidence: number;
  rules: CrossSellRule[];
}

/** a rule needs its items together in at least this share of the orders with items… */
export const CROSS_SELL_MIN_SUPPORT = 0.01;
/** …and in at least this many orders */
export const CROSS_SELL_MIN_ORDERS = 5;
export const CROSS_SELL_MIN_CONFIDENCE = 0.3;
/** rules kept per channel (the most confident) */
const CROSS_SELL_KEPT = 200;

export interface Predicted {
  pAlive: number;
  expectedOrders90d: number;
  /** minor units */
  expectedOrderValue: number;
  /** minor units, the next 365 days discounted 1% a month */
  clv365d: number;
  currency: string;
}

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Fits the channel's model as of `now` (purchases after it are left out). */
export function fitChannelModel(purchases: readonly ModelPurchase[], now: number, opts: { minBuyers?: number } = {}): ChannelModel {
  const started = performance.now();
  const minBuyers = opts.minBuyers ?? DEFAULT_MIN_BUYERS;
  const rows = summarize(toPurchases(purchases), now, MODEL_UNIT);
  const repeat = rows.filter((r) => r.x > 0);
  let days = 0;
  let total = 0;
  for (const r of rows) {
    days += r.x + 1;
    total += r.total;
  }
  const base = {
    fittedAt: now,
    buyers: rows.length,
    repeatBuyers: repeat.length,
    meanOrderValue: days ? Math.round(total / days) : 0,
    minBuyers,
  };
  if (rows.length < minBuyers || repeat.length < MIN_REPEAT_BUYERS) {
    return { status: 'insufficient_data', ...base, bgnbd: null, gammaGamma: null, fitMs: performance.now() - started };
  }
  const histories = rows.map((r) => ({ x: r.x, t_x: r.t_x, T: r.T }));
  let penalizer = 0;
  let bg = fitBgNbd(histories);
  if (![bg.r, bg.alpha, bg.a, bg.b].every((v) => Number.isFinite(v) && v < MAX_PARAMETER)) {
    penalizer = STABILIZING_PENALIZER;
    bg = fitBgNbd(histories, { penalizer });
  }
  let gammaGamma: GammaGammaParams | null = null;
  const spenders = repeat.filter((r) => r.zbar > 0);
  if (spenders.length >= MIN_REPEAT_BUYERS) {
    const gg = fitGammaGamma(spenders.map((r) => ({ x: r.x, zbar: r.zbar })));
    if ([gg.p, gg.q, gg.v].every((v) => Number.isFinite(v) && v > 0)) gammaGamma = { p: gg.p, q: gg.q, v: gg.v };
  }
  return {
    status: 'fitted',
    ...base,
    bgnbd: { r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, logLikelihood: bg.logLikelihood },
    gammaGamma,
    fitMs: performance.now() - started,
    penalizer,
  };
}

/**
 * One viewer's predicted value under the channel's model, as of `now`; null when the channel has
 * no fitted model or the viewer no verified purchase (the model describes buyers).
 */
export function predictViewer(model: ChannelModel | null, purchases: readonly { amount: number; at: number }[], now: number, currency: string): Predicted | null {
  if (!model || model.status !== 'fitted' || !model.bgnbd) return null;
  const [row] = summarize(toPurchases(purchases.map((p) => ({ viewerId: 'v', amount: p.amount, at: p.at }))), now, MODEL_UNIT);
  if (!row) return null;
  // without a spend model every order is worth the channel's mean: clv is an order value times the
  // discounted expected orders, so any valid spend model gives those orders as clv ÷ its order value
  const gg = model.gammaGamma ?? { p: 1, q: 2, v: 1 };
  const v = viewerValue(model.bgnbd, gg, { x: row.x, t_x: row.t_x, T: row.T, zbar: row.zbar }, MODEL_UNIT);
  const value = model.gammaGamma ? v.expectedOrderValue : model.meanOrderValue;
  const clv = model.gammaGamma ? v.clv365d : (v.clv365d / Math.max(1e-12, v.expectedOrderValue)) * value;
  const safe = (x: number) => (Number.isFinite(x) ? x : 0);
  return {
    pAlive: round(safe(v.pAlive), 4),
    expectedOrders90d: round(safe(v.expectedOrders90d), 4),
    expectedOrderValue: Math.round(safe(value)),
    clv365d: Math.round(safe(clv)),
    currency,
  };
}

/** Everything a fit makes for a channel: the model, its cross-sell rules and segments, and each buyer's prediction. */
export function fitChannel(purchases: readonly ModelPurchase[], engagement: ReadonlyMap<string, number>, now: number, minBuyers?: number) {
  const model: ChannelModel = {
    ...fitChannelModel(purchases, now, { minBuyers }),
    crossSell: mineCrossSell(purchases, now),
    segments: findSegments(purchases, engagement, now),
  };
  const predictions = predictAll(model, purchases, now);
  if (predictions.length) {
    const sorted = predictions.map((p) => p.clv365d).sort((a, b) => a - b);
    model.clvPercentiles = Array.from({ length: 101 }, (_, q) => sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))]!);
  }
  return { model, predictions };
}

/**
 * Where a 12-month value ranks among the channel's buyers at the fit: the N of "top N%" (1–100),
 * null without percentiles. A value above every buyer's is the top 1%.
 */
export function topPercentOf(model: ChannelModel | null, clv365d: number): number | null {
  const q = model?.clvPercentiles;
  if (!q?.length) return null;
  let below = 0; // percentiles strictly below the value
  while (below < q.length && q[below]! < clv365d) below++;
  return Math.min(100, Math.max(1, 100 - below + 1));
}

/**
 * Frequently-bought-together rules from verified orders' SKUs (FP-growth, ./fpgrowth.ts): itemsets
 * in at least CROSS_SELL_MIN_SUPPORT of the orders with items and CROSS_SELL_MIN_ORDERS orders, up
 * to 3 items; rules of confidence CROSS_SELL_MIN_CONFIDENCE or more, the 200 most confident kept.
 */
export function mineCrossSell(purchases: readonly ModelPurchase[], now: number): CrossSell {
  const baskets: string[][] = [];
  for (const p of purchases) if (p.amount > 0 && p.at <= now && p.skus?.length) baskets.push([...new Set(p.skus)]);
  const out: CrossSell = { fittedAt: now, orders: baskets.length, minSupport: CROSS_SELL_MIN_SUPPORT, minConfidence: CROSS_SELL_MIN_CONFIDENCE, rules: [] };
  if (baskets.length < CROSS_SELL_MIN_ORDERS) return out;
  const minSupport = Math.max(CROSS_SELL_MIN_SUPPORT, CROSS_SELL_MIN_ORDERS / baskets.length);
  const itemsets = frequentItemsets(baskets, { minSupport, maxLength: 3 });
  out.rules = associationRules(itemsets, { minConfidence: CROSS_SELL_MIN_CONFIDENCE, minLift: 1 })
    .slice(0, CROSS_SELL_KEPT)
    .map((r) => ({ if: r.antecedent, then: r.consequent, support: round(r.support, 4), confidence: round(r.confidence, 4), lift: round(r.lift, 3), orders: r.count }));
  return out;
}

/** one buyer's prediction as stored beside the viewer at each fit (for lists sorted by it, and the CSV) */
export interface StoredPrediction {
  viewerId: string;
  pAlive: number;
  clv365d: number;
}

/** Every buyer's prediction under a fitted model (empty otherwise), from the purchases the model was fitted on. */
export function predictAll(model: ChannelModel, purchases: readonly ModelPurchase[], now: number): StoredPrediction[] {
  if (model.status !== 'fitted') return [];
  const byViewer = new Map<string, { amount: number; at: number }[]>();
  for (const p of purchases) {
    if (!(p.amount > 0)) continue;
    let list = byViewer.get(p.viewerId);
    if (!list) byViewer.set(p.viewerId, (list = []));
    list.push({ amount: p.amount, at: p.at });
  }
  const out: StoredPrediction[] = [];
  for (const [viewerId, list] of byViewer) {
    const v = predictViewer(model, list, now, '');
    if (v) out.push({ viewerId, pAlive: v.pAlive, clv365d: v.clv365d });
  }
  return out;
}

/**
 * The chance a buyer is still active under the channel's model, as of `now`, without the rest of
 * the prediction (the tier model asks on every re-tier): null without a fitted model or a purchase.
 */
export function pAliveOf(model: ChannelModel | null, purchases: readonly { amount: number; at: number }[], now: number): number | null {
  if (!model || model.status !== 'fitted' || !model.bgnbd) return null;
  const end = Math.floor(now / DAY_MS);
  let first = Infinity;
  let last = -Infinity;
  const days = new Set<number>();
  for (const p of purchases) {
    if (!(p.amount > 0)) continue;
    const d = Math.floor(p.at / DAY_MS);
    if (d > end) continue;
    days.add(d);
    if (d < first) first = d;
    if (d > last) last = d;
  }
  if (!days.size) return null;
  const v = pAlive(model.bgnbd, days.size - 1, (last - first) / 7, (end - first) / 7);
  return Number.isFinite(v) ? v : null;
}

const DAY_MS = 86_400_000;

/** the SKUs of an order's stored `items` (JSON text or a parsed list); none when it has none */
export function skusOf(items: unknown): { skus?: string[] } {
  let list = items;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      return {};
    }
  }
  if (!Array.isArray(list)) return {};
  const skus = list.flatMap((i) => (i && typeof (i as { sku?: unknown }).sku === 'string' ? [(i as { sku: string }).sku] : []));
  return skus.length ? { skus } : {};
}

/** verified purchases with a positive net amount, by viewer (a refunded order is no purchase) */
function toPurchases(purchases: readonly ModelPurchase[]): Purchase[] {
  const out: Purchase[] = [];
  for (const p of purchases) if (p.amount > 0) out.push({ customerId: p.viewerId, at: p.at, amount: p.amount });
  return out;
}
