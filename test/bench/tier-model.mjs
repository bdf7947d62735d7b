// The tier model alone (pure code from dist/server/tiering: TierModel.assess over ViewerStates, or computeTier): memory per cached profile and
// re-tiering updates per second, beside a baseline loop that only keeps a running total.
// Run with --expose-gc; argv: profile count, update count.
const N = Number(process.argv[2] ?? 1_000_000);
const UPDATES = Number(process.argv[3] ?? 1_000_000);
const model = await import('../../dist/server/tiering/model.js');
const channel = await import('../../dist/server/tiering/channel.js').catch(() => null);
const state = await import('../../dist/server/tiering/state.js').catch(() => null);
const DAY = 86_400_000;
const now = Date.now();

function gc() {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

// The engine's path when it exists (issue 3): a ViewerState per viewer and the channel's TierModel,
// whose `assess` re-scores one viewer against the channel's RFM distribution. Otherwise the plain
// `computeTier` over a profile.
const useModel = !!(channel?.TierModel && state?.emptyState && state?.addPurchase && state?.addActivity);
const api = useModel ? 'TierModel.assess' : 'computeTier';
const tierModel = useModel ? new channel.TierModel() : null;
const act = (comments) => ({ watchMs: 0, comments, likes: 0, likeEvents: 0, productViews: 0, addToCarts: 0 });

// a plausible audience: most never bought, some bought once, a few often
function profile(i) {
  const r = i % 100;
  const orders = r < 70 ? 0 : r < 92 ? 1 : r < 98 ? 2 : 5;
  const purchases = [];
  for (let k = 0; k < orders; k++) purchases.push({ orderId: `o-${i}-${k}`, amount: 9_900 + ((i * 7919 + k * 104729) % 90_000), at: now - ((i + k * 37) % 200) * DAY });
  if (!useModel) {
    const engagement = model.emptyEngagement();
    engagement.watchMs = (i % 97) * 60_000;
    engagement.comments = i % 13;
    engagement.likes = i % 7;
    return { purchases, engagement, currency: 'CNY' };
  }
  const s = state.emptyState(now - (i % 300) * DAY);
  for (const p of purchases) state.addPurchase(s, p);
  state.addActivity(s, { watchMs: (i % 97) * 60_000, comments: i % 13, likes: i % 7, likeEvents: i % 7, productViews: i % 5, addToCarts: i % 3 }, now - (i % 30) * DAY);
  s.currency = 'CNY';
  return s;
}
// each profile's viewer id, made once (the engine's cached profile holds its id; counted in the memory below)
let ids;
const assess = useModel ? (i, p) => tierModel.assess(ids[i], p, now) : (_i, p) => model.computeTier(p, now);

gc();
const before = process.memoryUsage().heapUsed;
const profiles = new Array(N);
ids = new Array(N);
for (let i = 0; i < N; i++) {
  profiles[i] = profile(i);
  ids[i] = `v${i}`;
  if (useModel) tierModel.assess(ids[i], profiles[i], now); // the bulk load registers every buyer
}
gc();
const bytesPerProfile = (process.memoryUsage().heapUsed - before) / N;

// an update: one event lands on one viewer's cached profile, and that viewer is re-tiered
let changes = 0;
let t0 = performance.now();
for (let u = 0; u < UPDATES; u++) {
  const i = (u * 2654435761) % N;
  const p = profiles[i];
  if (u % 50 === 0) {
    const purchase = { orderId: `u-${u}`, amount: 19_900, at: now };
    if (useModel) state.addPurchase(p, purchase);
    else p.purchases.push(purchase);
  } else if (useModel) state.addActivity(p, act(1), now);
  else p.engagement.comments++;
  if (assess(i, p).tier !== 'potential') changes++;
}
const modelPerSec = UPDATES / ((performance.now() - t0) / 1000);

// baseline: the same updates with a running total and one comparison, no windows and no reasons
const totals = new Float64Array(N);
let base = 0;
t0 = performance.now();
for (let u = 0; u < UPDATES; u++) {
  const i = (u * 2654435761) % N;
  if (u % 50 === 0) totals[i] += 19_900;
  if (totals[i] >= 100_000) base++;
}
const basePerSec = UPDATES / ((performance.now() - t0) / 1000);

process.send({ api, profiles: N, updates: UPDATES, bytesPerProfile, modelPerSec, basePerSec, checksum: changes + base });
