// One LiveTier node of the bench's cluster phase (test/bench/cluster.mjs), from dist/: cluster mode
// on an ephemeral port, as `livetier serve --db postgres://… --redis redis://… --workers N` runs it,
// with the rate limits off (the bench measures capacity; as livetier-server.mjs).
//   node cluster-node.mjs POSTGRES_URL ADMIN_KEY REDIS_URL WORKERS
// With WORKERS 1 the server runs in this process (serve()); with more, this process is the
// primary (server/workers.ts: it only accepts connections and hands each to a worker) and node:cluster
// forks this same file as each worker, which then takes the CLI's own worker path.
//
// IPC with the orchestrator (the primary only): `{ ready, url, pids }` once listening; `{ probe:
// 'reset' | 'stats' }` answered with the CPU of this process and every worker together (from
// /proc: the workers are other processes), per process too; 'close' shuts down gracefully.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

const [db, adminKey, redis, workers = '1'] = process.argv.slice(2);
const limitsOff = ['--limit-events-per-second', '0', '--limit-events-burst', '0', '--limit-inflight-tracks', '0', '--limit-connections-per-minute', '0',
  '--limit-connections-per-viewer', '0', '--limit-rest-per-minute', '0', '--limit-buffered-packets', '0'];
const flags = ['--port', '0', '--db', db, '--redis', redis, '--workers', workers, ...limitsOff];
// the forked workers inherit this environment (and get LIVETIER_ADMIN_KEY from the primary)
process.env.LOG_LEVEL = 'error';

if (cluster.isWorker) {
  // a worker: the CLI's worker path builds the app and tells the primary it is ready; SIGTERM drains it
  const { cli } = await import('../../dist/server/main.js');
  await cli(['serve', ...flags]);
} else {
  const { serve } = await import('../../dist/server/main.js');
  const { loadConfig } = await import('../../dist/server/config.js');
  const { runPrimary } = await import('../../dist/server/workers.js');
  const config = loadConfig(flags, { LIVETIER_ADMIN_KEY: adminKey, LOG_LEVEL: 'error' }, () => adminKey);
  const running = config.workers > 1 ? await runPrimary(config) : await serve(config);

  const CLK_TCK = 100; // Linux's USER_HZ
  const pids = () => [process.pid, ...Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead()).map((w) => w.process.pid)];
  const ticks = (pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return NaN;
    }
  };
  let since = performance.now();
  let before = new Map(pids().map((p) => [p, ticks(p)]));
  process.on('message', async (msg) => {
    if (msg === 'close') {
      await running.close();
      process.exit(0);
    }
    if (!msg || typeof msg !== 'object' || !msg.probe) return;
    if (msg.probe === 'reset') {
      since = performance.now();
      before = new Map(pids().map((p) => [p, ticks(p)]));
      process.send({ probe: 'reset', ok: true });
    } else if (msg.probe === 'stats') {
      const wall = (performance.now() - since) / 1000;
      // a worker started after the reset (a replacement) counts from zero
      const parts = pids().map((p) => ({ pid: p, primary: p === process.pid && config.workers > 1, cpu: (ticks(p) - (before.get(p) ?? 0)) / CLK_TCK / wall }));
      const cpu = parts.reduce((a, x) => a + x.cpu, 0);
      const m = process.memoryUsage();
      process.send({ probe: 'stats', cpu, parts, rss: m.rss, heapUsed: m.heapUsed, external: m.external });
    }
  });
  process.send({ ready: true, url: running.url, pids: pids() });
}
