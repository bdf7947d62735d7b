// The predictive models alone, from dist/server/predict (the code the fit's worker runs), in this one
// process (the orchestrator pins it to the server's core, like tier-model.mjs):
// - the BG/NBD + Gamma-Gamma fit (`fitChannelModel`, what the worker's `fitChannel` starts with) on
//   CDNOW (the 2,357-customer sample, weeks, calibration to 1997-09-30, as the tests fit it) and on
//   CDNOW replicated `--replicas` times with new customer ids;
// - the cross-sell miner (`mineCrossSell`, FP-growth) on `--orders` synthetic orders: 500 SKUs of
//   Zipf-like popularity, 1–4 items an order, a few planted pairs;
// - the segments (`findSegments`, K-means with K from 2 to 8 by the silhouette) over `--viewers`
//   synthetic buyers;
// - the event loop's delay in this (main) thread, idle and while `ModelFitter` fits CDNOW ×
//   `--lag-replicas` in its worker thread (the whole fit the server runs: model, rules, segments,
//   every buyer's prediction).
// Prints one JSON line on stdout (the orchestrator parses the last line), progress on stderr.
// Standalone: node test/bench/predict.mjs [--replicas=100] [--orders=100000] [--viewers=100000] [--lag-replicas=100]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { deserialize, serialize } from 'node:v8';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const REPLICAS = arg('replicas', 100);
const ORDERS = arg('orders', 100_000);
const VIEWERS = arg('viewers', 100_000);
const LAG_REPLICAS = arg('lag-replicas', REPLICAS);
const LAG_IDLE_MS = arg('lag-idle-ms', 5_000);

const dist = (f) => import(path.join(root, 'dist', 'server', 'predict', f));
const { fitChannelModel, mineCrossSell } = await dist('channel-model.js');
const { findSegments } = await dist('segments.js');
const { ModelFitter } = await dist('fitter.js');
const { seededRandom } = await dist('rng.js');
const { encodePurchases, encodePredictions, decodePredictions } = await dist('wire.js');

const log = (s) => process.stderr.write(`predict: ${s}\n`);
const DAY = 86_400_000;

// ---------------------------------------------------------------- CDNOW

function cdnowDir() {
  for (const d of [process.env.LIVETIER_CDNOW_DIR, path.resolve(root, '..', 'shared', 'data', 'cdnow'), '/work/shared/data/cdnow']) {
    if (d && existsSync(path.join(d, 'CDNOW_sample.txt'))) return d;
  }
  throw new Error('CDNOW data not found (set LIVETIER_CDNOW_DIR to the folder with CDNOW_sample.txt)');
}

/** CDNOW_sample.txt as the server's model takes purchases (as server/predict/channel-model.test.ts reads it): $0 orders get 1 cent */
function cdnow() {
  const out = [];
  for (const line of readFileSync(path.join(cdnowDir(), 'CDNOW_sample.txt'), 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const d = f[2];
    out.push({ viewerId: f[1], amount: Math.max(1, Math.round(Number(f[4]) * 100)), at: Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8))) });
  }
  return out;
}
const CDNOW_END = Date.UTC(1997, 8, 30);

/** the customers `n` times over, each copy with new ids */
function replicate(ps, n) {
  if (n === 1) return ps;
  const out = new Array(ps.length * n);
  let i = 0;
  for (let k = 0; k < n; k++) for (const p of ps) out[i++] = { viewerId: `${p.viewerId}-r${k}`, amount: p.amount, at: p.at };
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
};

/** runs `fn` `reps` times (the first is a warm-up when reps > 1); the median of the timed runs, the first run's time, the last result */
function time(fn, reps) {
  const ms = [];
  let result;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: reps > 1 ? median(ms.slice(1)) : ms[0], first: ms[0], all: ms, result };
}

const modelOf = (m) => ({
  status: m.status, buyers: m.buyers, repeatBuyers: m.repeatBuyers, penalizer: m.penalizer,
  bgnbd: m.bgnbd && { r: m.bgnbd.r, alpha: m.bgnbd.alpha, a: m.bgnbd.a, b: m.bgnbd.b, logLikelihood: m.bgnbd.logLikelihood },
  gammaGamma: m.gammaGamma,
});

const base = cdnow();
log(`CDNOW: ${base.length} purchases`);
const one = time(() => fitChannelModel(base, CDNOW_END), 11);
const fit = { purchases: base.length, ms: one.ms, firstMs: one.first, runs: one.all.length - 1, model: modelOf(one.result) };
log(`fitChannelModel on CDNOW: median ${one.ms.toFixed(1)} ms (first ${one.first.toFixed(1)} ms)`);
let fitBig = null;
if (REPLICAS > 1) {
  let big = replicate(base, REPLICAS);
  const r = time(() => fitChannelModel(big, CDNOW_END), 3);
  fitBig = { replicas: REPLICAS, purchases: big.length, ms: r.ms, firstMs: r.first, runs: r.all.length - 1, model: modelOf(r.result) };
  big = null;
  log(`fitChannelModel on CDNOW x${REPLICAS}: median ${r.ms.toFixed(0)} ms (first ${r.first.toFixed(0)} ms)`);
}

// ---------------------------------------------------------------- cross-sell

/** `n` orders: 500 SKUs, Zipf (s = 1) popularity, 1–4 distinct items; planted pairs: buying the first adds the second with probability `p` */
function syntheticOrders(n, random) {
  const SKUS = 500;
  const cdf = new Float64Array(SKUS);
  let sum = 0;
  for (let k = 0; k < SKUS; k++) cdf[k] = sum += 1 / (k + 1);
  for (let k = 0; k < SKUS; k++) cdf[k] /= sum;
  const draw = () => {
    const u = random();
    let lo = 0;
    let hi = SKUS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const sku = (k) => `sku-${String(k).padStart(3, '0')}`;
  const planted = [[2, 300, 0.6], [4, 120, 0.6], [6, 450, 0.5], [9, 250, 0.5], [14, 77, 0.7]].map(([a, b, p]) => ({ if: sku(a), then: sku(b), a, b, p }));
  const now = Date.UTC(2026, 0, 1);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const items = new Set();
    const size = 1 + Math.floor(random() * 4);
    while (items.size < size) items.add(draw());
    for (const pl of planted) if (items.has(pl.a) && random() < pl.p) items.add(pl.b);
    out[i] = { viewerId: `v${Math.floor(random() * n * 0.4)}`, amount: 1_000 + Math.floor(random() * 50_000), at: now - Math.floor(random() * 365) * DAY, skus: [...items].map(sku) };
  }
  return { orders: out, planted, now };
}

const syn = syntheticOrders(ORDERS, seededRandom(7));
const itemsPerOrder = syn.orders.reduce((a, o) => a + o.skus.length, 0) / syn.orders.length;
const cs = time(() => mineCrossSell(syn.orders, syn.now), 2);
const rules = cs.result.rules;
// a planted pair is found when a rule holds just its two SKUs, either way round
const pairOf = (r) => [...r.if, ...r.then].sort().join(' ');
const pairs = new Set(rules.map(pairOf));
const found = syn.planted.filter((pl) => pairs.has([pl.if, pl.then].sort().join(' '))).length;
const crossSell = { orders: ORDERS, skus: 500, itemsPerOrder, ms: cs.ms, firstMs: cs.first, rules: rules.length, planted: syn.planted.length, plantedFound: found, top: rules.slice(0, 3) };
log(`mineCrossSell on ${ORDERS} orders: ${cs.ms.toFixed(0)} ms, ${rules.length} rules, ${found} of ${syn.planted.length} planted pairs`);

// ---------------------------------------------------------------- segments

/** `n` buyers over the last year: a mix of one-off, occasional and frequent buyers with heavy-tailed spend, engagement points for most */
function syntheticViewers(n, random) {
  const now = Date.UTC(2026, 0, 1);
  const purchases = [];
  const engagement = new Map();
  for (let i = 0; i < n; i++) {
    const id = `viewer-${i}`;
    const kind = random();
    const days = kind < 0.55 ? 1 : kind < 0.85 ? 2 + Math.floor(random() * 3) : kind < 0.97 ? 5 + Math.floor(random() * 10) : 15 + Math.floor(random() * 40);
    const ticket = Math.exp(7 + random() * 3 + (kind > 0.97 ? 1.5 : 0)); // ~1,100 to ~22,000 minor units, whales above
    const lastAgo = Math.floor(random() ** 2 * 360);
    for (let d = 0; d < days; d++) purchases.push({ viewerId: id, amount: Math.round(ticket * (0.5 + random())), at: now - Math.min(364, lastAgo + Math.floor(random() * 200)) * DAY });
    if (random() < 0.8) engagement.set(id, Math.round(random() ** 3 * 500 + (kind > 0.85 ? 50 : 0)));
  }
  return { purchases, engagement, now };
}

const sv = syntheticViewers(VIEWERS, seededRandom(11));
const sg = time(() => findSegments(sv.purchases, sv.engagement, sv.now), 2);
const segments = { viewers: VIEWERS, purchases: sv.purchases.length, ms: sg.ms, firstMs: sg.first, k: sg.result?.k ?? null, silhouette: sg.result?.silhouette ?? null, buyers: sg.result?.buyers ?? 0, shares: sg.result?.segments.map((s) => s.share) ?? [] };
log(`findSegments over ${VIEWERS} viewers: ${sg.ms.toFixed(0)} ms, K = ${segments.k} (silhouette ${segments.silhouette})`);

// ---------------------------------------------------------------- the event loop during a fit

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RESOLUTION_MS = 1;
const lagOf = (h) => ({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6, samples: h.count });

async function lagPhase() {
  const purchases = replicate(base, LAG_REPLICAS);
  const fitter = new ModelFitter();
  if (fitter.inline) throw new Error('no built fit worker (dist/server/predict/fit-worker.js): fits would run on the event loop');
  // the worker starts and loads its code before anything is measured (a fit of a tiny channel)
  await fitter.fit(purchases.slice(0, 10), CDNOW_END);
  globalThis.gc?.();
  await sleep(200);
  // one histogram, enabled throughout: it records the gap between two of its timer's ticks, so a
  // block before its first tick after enable() would go unseen (reset() keeps the timer running)
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  // beside it, the stalls of 20 ms or more, with when they happened (ms after the window began)
  let stalls = [];
  let since = performance.now();
  let tick = since;
  const ticker = setInterval(() => {
    const t = performance.now();
    if (t - tick >= 20) stalls.push({ atMs: Math.max(0, Math.round(tick - since)), ms: Math.round(t - tick) });
    tick = t;
  }, 1);
  await sleep(500);
  h.reset();
  stalls = [];
  since = performance.now();
  await sleep(LAG_IDLE_MS);
  const idle = lagOf(h);
  const idleStalls = stalls;
  // the same while the worker fits; the main thread's own part of a fit (copying the purchases to the
  // worker, reading its answer back) is counted in, as the server's event loop pays it
  h.reset();
  await sleep(20); // reset() forgets the last tick too: a tick or two before the fit starts
  stalls = [];
  // fits one after the other for as long as the idle window (one at least), so both have as many samples
  const t0 = (since = performance.now());
  let f;
  let fits = 0;
  const fitMs = [];
  do {
    const t1 = performance.now();
    f = await fitter.fit(purchases, CDNOW_END);
    fitMs.push(performance.now() - t1);
    fits++;
  } while (performance.now() - t0 < LAG_IDLE_MS);
  await sleep(100); // the tick after the answer's handling records it
  clearInterval(ticker);
  h.disable();
  const during = lagOf(h);
  // the main thread's share of a fit, as ModelFitter does it (server/predict/wire.ts): the request
  // made columns and serialized (postMessage transfers the arrays; serializing copies them, an upper
  // bound), the answer's columns deserialized and made objects again (before and in its 'message' event)
  const c0 = performance.now();
  serialize({ id: 0, columns: encodePurchases(purchases, []).columns, now: CDNOW_END });
  const postMs = performance.now() - c0;
  const answer = serialize({ id: 1, fit: { model: f.model, predictions: encodePredictions(f.predictions).columns } });
  const c1 = performance.now();
  decodePredictions(deserialize(answer).fit.predictions);
  const answerMs = performance.now() - c1;
  await fitter.close();
  return {
    replicas: LAG_REPLICAS, purchases: purchases.length, resolutionMs: RESOLUTION_MS, idleMs: LAG_IDLE_MS, idle, during, fits, fitMs: median(fitMs),
    predictions: f.predictions.length, status: f.model.status, postMs, answerMs, answerBytes: answer.length, stalls, idleStalls,
  };
}
const lag = await lagPhase();
log(`event loop p99 idle ${lag.idle.p99.toFixed(2)} ms, during ${lag.fits} fits of ${lag.fitMs.toFixed(0)} ms of CDNOW x${LAG_REPLICAS} ${lag.during.p99.toFixed(2)} ms (max ${lag.during.max.toFixed(1)} ms); stalls ${JSON.stringify(lag.stalls)}; serialize request ${lag.postMs.toFixed(0)} ms, deserialize answer ${lag.answerMs.toFixed(0)} ms`);

process.stdout.write(`${JSON.stringify({ predict: true, fit, fitBig, crossSell, segments, lag })}\n`);
process.exit(0);
