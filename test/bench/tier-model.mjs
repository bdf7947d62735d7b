// The tier model alone (pure code from dist/server/tiering): memory per cached profile and
// re-tiering updates per second, beside a baseline loop that only keeps a running total.
// Run with --expose-gc; argv: profile count, update count.
const N = Number(process.argv[2] ?? 1_000_000);
const UPDATES = Number(process.argv[3] ?? 1_000_000);
const model = await import('../../dist/server/tiering/model.js');
const { computeTier } = model;
const empty = model.emptyEngagement ?? (() => ({ watchMs: 0, comments: 0, likes: 0, productViews: 0, addToCarts: 0 }));
const DAY = 86_400_000;
const now = Date.now();

function gc() {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

// a plausible audience: most never bought, some bought once, a few often
function profile(i) {
  const r = i % 100;
  const orders = r < 70 ? 0 : r < 92 ? 1 : r < 98 ? 2 : 5;
  const purchases = [];
  for (let k = 0; k < orders; k++) purchases.push({ orderId: `o-${i}-${k}`, amount: 9_900 + ((i * 7919 + k * 104729) % 90_000), at: now - ((i + k * 37) % 200) * DAY });
  const engagement = empty();
  engagement.watchMs = (i % 97) * 60_000;
  engagement.comments = i % 13;
  engagement.likes = i % 7;
  return { purchases, engagement, currency: 'CNY' };
}

gc();
const before = process.memoryUsage().heapUsed;
const profiles = new Array(N);
for (let i = 0; i < N; i++) profiles[i] = profile(i);
gc();
const bytesPerProfile = (process.memoryUsage().heapUsed - before) / N;

// an update: one event lands on one viewer's cached profile, and that viewer is re-tiered
let changes = 0;
let t0 = performance.now();
for (let u = 0; u < UPDATES; u++) {
  const p = profiles[(u * 2654435761) % N];
  if (u % 50 === 0) p.purchases.push({ orderId: `u-${u}`, amount: 19_900, at: now });
  else p.engagement.comments++;
  if (computeTier(p, now).tier !== 'potential') changes++;
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

process.send({ profiles: N, updates: UPDATES, bytesPerProfile, modelPerSec, basePerSec, checksum: changes + base });
