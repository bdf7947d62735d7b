// The flood run (issue 8): well-behaved viewers' offer latency while a few abusive clients flood
// `track` far over the per-connection limit, beside the same measure with no flood. For the bench
// orchestrator (run.mjs owns the processes), on a server started WITH its default limits (the
// capacity phases turn them off):
//   import { flood } from './flood.mjs';
//   const r = await flood({ server, abusers: [clientChild], good: clientChild, viewers: 50 });
//   // server: { url, stream: { id, ingestKey } }; abusers / good: client.mjs children ({ ask({ cmd }) })
//   // r.rows: [label, value, verdict][]; r.ok: the p99 under the flood stays within FLOOD_GOAL_P99_MS
export const FLOOD_GOAL_P99_MS = 250;

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export async function flood({ server, abusers, good, viewers = 50, abusiveSockets = 5, batch = 500, goalP99Ms = FLOOD_GOAL_P99_MS }) {
  const { url, stream } = server;
  const measure = (prefix) => good.ask({ cmd: 'latency', url, streamId: stream.id, ingestKey: stream.ingestKey, count: viewers, prefix });
  const quiet = await measure('calm');
  for (const [i, a] of abusers.entries()) {
    const r = await a.ask({ cmd: 'connect', url, streamId: stream.id, prefix: `abuser-${i}`, count: abusiveSockets });
    if (r.failed) throw new Error(`flood: ${r.failed} abusive sockets could not connect (${r.refusal})`);
  }
  // the abusers send `batch` events per call, back to back, for as long as the measure under flood takes
  const floods = abusers.map((a) => a.ask({ cmd: 'ingest', durationMs: 20_000, batch }));
  const loud = await measure('flooded');
  const flooded = await Promise.all(floods);
  const refused = flooded.reduce((n, r) => n + r.rejected + r.errors, 0);
  const f1 = (x) => x.toFixed(1);
  const p99 = pct(loud.samples, 99);
  const ok = loud.errors === 0 && p99 <= goalP99Ms;
  return {
    ok,
    rows: [
      [`Flood: offer latency of ${viewers} well-behaved viewers, no flood (p50 / p99 ms)`, `${f1(pct(quiet.samples, 50))} / ${f1(pct(quiet.samples, 99))}`, quiet.errors ? `**${quiet.errors} failed**` : 'baseline'],
      [`Flood: the same while ${abusers.length * abusiveSockets} sockets flood ${batch}-event calls (p50 / p99 ms)`, `${f1(pct(loud.samples, 50))} / ${f1(p99)}`, `goal p99 ≤ ${goalP99Ms}, none lost: ${ok ? 'met' : '**not met**'}`],
      ['Flood: abusive events or calls refused by the limits', String(refused), refused > 0 ? 'the limits held' : '**the flood was not limited**'],
    ],
  };
}
