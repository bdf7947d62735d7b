// The soak run (issue 8): `npm run bench -- --soak MINUTES`. Holds a steady audience on one
// LiveTier server for MINUTES (viewers with heartbeats, plus a burst of `track` every interval)
// and samples the server's own memory (after a forced GC) and event-loop lag over time. The
// verdict: memory is flat (the heap's growth over the second half, by least squares, stays under
// a small bound) and lag is bounded (the worst p99 of any interval stays under a bound).
//
// For the bench orchestrator (run.mjs owns processes; this file owns the soak):
//   import { soak } from './soak.mjs';
//   const r = await soak({ server, clients, minutes, viewers: 400, log: (s) => process.stderr.write(s) });
//   // server: { url, stream: { id }, ask({ probe: 'reset' | 'stats', gc? }) } (probe.mjs in the server child)
//   // clients: client.mjs children ({ ask({ cmd }) }): 'connect', 'heartbeat', 'ingest', 'stop-heartbeat'
//   // r.rows: [label, value, verdict][] for the report; r.ok: both goals met; r.samples: the raw series
const MB = 1024 * 1024;

/** Goals, stated once: the heap's trend across the second half (MB, so short runs are not judged on extrapolated noise), and the worst per-interval p99 lag. */
export const SOAK_GOALS = { heapGrowthMB: 5, lagP99Ms: 100 };

/** Least-squares slope of y over x. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The verdict over samples `{ t (ms since start), heapUsed, rss, lagP99, lagMax }`. */
export function summarize(samples, goals = SOAK_GOALS) {
  const half = samples.filter((s) => s.t >= samples[samples.length - 1].t / 2); // the first half warms up caches and pools
  const heapPerHour = slope(half.map((s) => s.t / 3_600_000), half.map((s) => s.heapUsed / MB));
  const heapGrowth = heapPerHour * ((half[half.length - 1].t - half[0].t) / 3_600_000);
  const rssPerHour = slope(half.map((s) => s.t / 3_600_000), half.map((s) => s.rss / MB));
  const worstP99 = Math.max(...samples.map((s) => s.lagP99));
  const worstMax = Math.max(...samples.map((s) => s.lagMax));
  const flat = heapGrowth <= goals.heapGrowthMB;
  const bounded = worstP99 <= goals.lagP99Ms;
  const f1 = (x) => x.toFixed(1);
  return {
    ok: flat && bounded,
    flat,
    bounded,
    heapGrowth,
    heapPerHour,
    rssPerHour,
    worstP99,
    worstMax,
    rows: [
      ['Soak: heap trend across the second half (MB, least squares)', f1(heapGrowth), `goal ≤ ${goals.heapGrowthMB}: ${flat ? 'met' : '**not met**'}`],
      ['Soak: heap trend as a rate (MB/hour)', f1(heapPerHour), 'informative'],
      ['Soak: RSS growth over the second half (MB/hour)', f1(rssPerHour), 'informative'],
      ['Soak: worst event-loop lag p99 of any interval (ms)', f1(worstP99), `goal ≤ ${goals.lagP99Ms}: ${bounded ? 'met' : '**not met**'}`],
      ['Soak: worst event-loop lag max (ms)', f1(worstMax), 'informative'],
    ],
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function soak({ server, clients, minutes, viewers = 400, heartbeatMs = 10_000, intervalMs = 15_000, burstMs = 2_000, batch = 20, log = () => {} }) {
  const per = Math.ceil(viewers / clients.length);
  for (const [i, c] of clients.entries()) {
    const r = await c.ask({ cmd: 'connect', url: server.url, streamId: server.stream.id, prefix: `soak-${i}`, count: per });
    if (r.failed) throw new Error(`soak: ${r.failed} viewers could not connect (${r.refusal})`);
  }
  await Promise.all(clients.map((c) => c.ask({ cmd: 'heartbeat', everyMs: heartbeatMs })));
  const samples = [];
  const start = Date.now();
  const end = start + minutes * 60_000;
  await server.ask({ probe: 'reset' });
  while (Date.now() < end) {
    // one burst of tracked events from every client, then quiet heartbeats until the interval ends
    await Promise.all(clients.map((c) => c.ask({ cmd: 'ingest', durationMs: burstMs, batch })));
    await sleep(Math.max(0, Math.min(intervalMs - burstMs, end - Date.now())));
    const lag = await server.ask({ probe: 'stats' });
    const mem = await server.ask({ probe: 'stats', gc: true });
    await server.ask({ probe: 'reset' });
    const s = { t: Date.now() - start, heapUsed: mem.heapUsed + mem.external, rss: mem.rss, lagP99: lag.lag.p99, lagMax: lag.lag.max };
    samples.push(s);
    log(`soak: ${(s.t / 60_000).toFixed(1)} min heap ${(s.heapUsed / MB).toFixed(1)} MB rss ${(s.rss / MB).toFixed(1)} MB lag p99 ${s.lagP99.toFixed(1)} ms\n`);
  }
  await Promise.all(clients.map((c) => c.ask({ cmd: 'stop-heartbeat' })));
  if (samples.length < 2) throw new Error('soak: run at least two intervals (--soak MINUTES with MINUTES ≥ 1)');
  return { ...summarize(samples), samples };
}
