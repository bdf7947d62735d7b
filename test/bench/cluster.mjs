// The bench's cluster phase (`npm run bench -- --only=cluster`): LiveTier in cluster mode, `--db
// postgres://… --redis redis://…` (docs/scaling.md), each node a test/bench/cluster-node.mjs process.
// Three figures, each beside its baseline in this run:
//
// 1. Ingest events/s with `--workers 2` (one port, node:cluster) against `--workers 1`, both on a
//    throwaway PostgreSQL database and the Redis: the ingest row's generators, batch and duration,
//    `P.ingestReps` alternating runs, the best of each; the no-loss count on every run.
// 2. Offer latency across nodes: two LiveTier processes (node A and node B, `--workers 1` each, one
//    database, one Redis); the merchant's `POST /v1/purchases` goes to node A while the viewer's
//    socket is on node B, against purchase and viewer both on node B. Blocks of the two alternate.
// 3. Host push fan-out to `P.fanout` potential viewers, half on node A and half on node B (the host
//    on node A), against all of them on node A: push → the last viewer has the offer, as fanoutOn.
//
// For the bench orchestrator (run.mjs owns the process helpers and the report):
//   import { clusterPhase } from './cluster.mjs';
//   await clusterPhase({ P, child, clients, hostSocket, ingestOn, pgStore, row, notes, failures, cpu: { server, load }, taskset, killChildren });
//
// Redis: REDIS_URL (LIVETIER_BENCH_REDIS, by default redis://127.0.0.1:6379). Each server gets a
// stream and channel of its own (`bench-cl-<random>`), so nothing it keeps in Redis (the presence
// hash `lt:live:<stream>`, which LiveTier expires 30 s after its last write) meets anyone else's
// keys; the bench never deletes or flushes anything there. The REST limit (the only
// other thing LiveTier keeps in Redis) is off.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pgLabel, pgUnreachable } from './pg.mjs';
import { f0, f1, f2, floor2, median, now, pct, sleep, split } from './stats.mjs';

export const REDIS_URL = process.env.LIVETIER_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
/** the issue's goals */
export const GOALS = { ingestSpeedup: 1.6, crossNodeP99: 2 };

/** `host:port` of a Redis URL, never its password */
export function redisLabel(url = REDIS_URL) {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '6379'}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'the configured Redis';
  }
}

/**
 * Redis's command counters so far: every command, and the messages published (PUBLISH + SPUBLISH,
 * which is how the adapter carries emits, the bus and acks between processes). Deltas over a span
 * are what LiveTier sent through Redis meanwhile (plus anyone else's use of the same Redis).
 */
async function redisCounters(r) {
  const [stats, cmds] = await Promise.all([r.info('stats'), r.info('commandstats')]);
  const calls = (name) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(cmds)?.[1] ?? 0);
  return { commands: Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? 0), published: calls('publish') + calls('spublish') };
}
const quickIdle = (P) => (P.ingestMs <= 3_000 ? 2_000 : 5_000);
const minus = (a, b) => ({ commands: a.commands - b.commands, published: a.published - b.published });

/** Redis's version and run id, or { why } when it does not answer (or cannot carry LiveTier's sharded pub/sub). */
async function redisVersion() {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let first = null; // the socket's own error (ECONNREFUSED…); connect() only says the connection closed
  r.on('error', (err) => (first ??= err));
  try {
    await r.connect();
    const info = await r.info('server');
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    const runId = /run_id:([^\r\n]+)/.exec(info)?.[1] ?? null; // another after a restart
    if (Number(version.split('.')[0]) < 7) return { why: `Redis ${version} answered; cluster mode needs Redis 7 (sharded pub/sub)` };
    return { version, runId };
  } catch (err) {
    return { why: String((first ?? err)?.message ?? err).split('\n')[0] };
  } finally {
    r.disconnect();
  }
}


/** the whole machine's busy CPU ticks (every core; /proc/stat), to say how much of it a run used */
function machineTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], at: performance.now() }; // less idle and iowait
  } catch {
    return null;
  }
}
const machineCores = (a, b) => (a && b ? (b.busy - a.busy) / 100 / ((b.at - a.at) / 1000) : NaN);

/** CPU ticks of this orchestrator's load generators (its client.mjs children), to tell whether they were the limit */
function generatorTicks() {
  let busy = 0;
  try {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state), f[1] the parent
        if (Number(f[1]) !== process.pid || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('client.mjs')) continue;
        busy += Number(f[11]) + Number(f[12]);
      } catch {}
    }
  } catch {
    return null;
  }
  return { busy, at: performance.now() };
}

export async function clusterPhase({ P, child, clients, hostSocket, ingestOn, pgStore, row, notes, failures, cpu, taskset, killChildren }) {
  const pgDown = await pgUnreachable();
  const redis = pgDown ? null : await redisVersion();
  if (pgDown || redis.why) {
    notes.push(`Cluster rows skipped: ${pgDown ? `no PostgreSQL answered at ${pgLabel()} (${pgDown})` : `no usable Redis at ${redisLabel()} (${redis.why})`}; ` +
      'cluster mode needs both (set LIVETIER_BENCH_PG / LIVETIER_BENCH_REDIS to other servers).');
    return;
  }
  const cores = cpus().length;
  const BOTH = cores >= 2 ? `0-${cores - 1}` : undefined; // a server of several processes (or nodes A and B) gets every core
  notes.push(`Cluster rows: LiveTier in cluster mode (\`--db postgres://…\`, a throwaway database per server on PostgreSQL ${await pgStore.serverVersion()} at ${pgLabel()}; ` +
    `\`--redis\` Redis ${redis.version} at ${redisLabel()}; rate limits off). ` +
    (taskset
      ? `Cores: \`--workers 1\` of the ingest row on core ${cpu.server} as elsewhere; \`--workers 2\` and the two nodes A and B of the latency and fan-out rows are not pinned (cores ${BOTH}), so they share the ${cores} cores with the load generators (pinned to core ${cpu.load}), PostgreSQL and Redis (never pinned).`
      : 'No pinning (no `taskset` or a single core): servers, generators, PostgreSQL and Redis share the cores.'));

  const adminKey = `bench-admin-${randomBytes(12).toString('hex')}`;
  const pids = new Set(); // every process of every node (the workers are not the orchestrator's children)

  /** a node: cluster-node.mjs on a database, with a stream of its own unless given one */
  async function node({ db, workers, cpuSet, stream }) {
    const srv = child('cluster-node.mjs', [db, adminKey, REDIS_URL, String(workers)], { cpu: cpuSet });
    const ready = await srv.ready;
    for (const p of ready.pids) pids.add(p);
    let machine = null;
    let generators = null;
    const n = {
      ...srv, url: ready.url, db, store: pgStore, workers, pids: ready.pids, lastStats: null,
      // the probe answers with every process of the node; the machine's and the generators' use are read beside it
      async ask(msg) {
        if (msg.probe === 'reset') [machine, generators] = [machineTicks(), generatorTicks()];
        const r = await srv.ask(msg);
        if (msg.probe === 'stats') n.lastStats = { ...r, machine: machineCores(machine, machineTicks()), generators: machineCores(generators, generatorTicks()) };
        return r;
      },
    };
    n.stream = stream ?? await createStream(n.url);
    return n;
  }

  async function createStream(url) {
    const id = `bench-cl-${randomBytes(5).toString('hex')}`;
    const res = await fetch(`${url}/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ id, title: 'Bench cluster stream', channel: id }),
    });
    if (res.status !== 201) throw new Error(`create stream: ${res.status} ${await res.text()}`);
    return res.json();
  }

  try {
    // ------------------------------------------------ 1. ingest, --workers 2 against --workers 1
    const run = async (workers) => {
      const db = await pgStore.create();
      const srv = await node({ db, workers, cpuSet: workers === 1 ? cpu.server : BOTH });
      const a = await ingestOn(srv);
      const s = srv.lastStats;
      await srv.close(); // graceful: every worker commits and acks what it has before it exits
      a.stored = await pgStore.countIngested(db, srv.stream.id);
      await pgStore.drop(db);
      return { ...a, parts: s.parts, machine: s.machine, generators: s.generators };
    };
    const ones = [];
    const twos = [];
    for (let i = 0; i < P.ingestReps; i++) {
      ones.push(await run(1));
      twos.push(await run(2));
    }
    const best = (xs) => xs.reduce((m, x) => (x.perSec > m.perSec ? x : m));
    const a = best(twos);
    const b = best(ones);
    const speedup = a.perSec / b.perSec;
    const workersCpu = (x) => x.parts.filter((p) => !p.primary).map((p) => f2(p.cpu)).join(' + ');
    const primaryCpu = (x) => x.parts.find((p) => p.primary)?.cpu;
    // what the machine spent besides LiveTier, PostgreSQL and the generators: the orchestrator, Redis, and anyone else's work
    const rest = (x) => Math.max(0, x.machine - x.cpu - x.dbCpu - x.generators);
    row(`Cluster ingest: events/s through \`track\` with acks, \`--workers 2\` (baseline \`--workers 1\`), both on PostgreSQL + Redis (the ingest row's load: ${P.ingestProcs * P.ingestSockets} sockets, ${P.batch} events per call; best of ${P.ingestReps} alternating runs of ${P.ingestMs / 1000} s)`,
      `${f0(a.perSec)} (LiveTier CPU ${f2(a.cpu)} cores: workers ${workersCpu(a)}, primary ${f2(primaryCpu(a))}; PostgreSQL CPU ${f2(a.dbCpu)}; load generators ${f2(a.generators)}; whole machine busy ${f2(a.machine)} of ${cores} cores, ${f2(rest(a))} of it other processes)`,
      `${f0(b.perSec)} (LiveTier CPU ${f2(b.cpu)} cores; PostgreSQL CPU ${f2(b.dbCpu)}; load generators ${f2(b.generators)}; whole machine busy ${f2(b.machine)} of ${cores} cores, ${f2(rest(b))} of it other processes)`,
      f2(floor2(speedup)),
      `goal ≥ ${GOALS.ingestSpeedup}×: ${speedup >= GOALS.ingestSpeedup ? 'met' : '**not met**'}; every run (k events/s): 2 workers ${twos.map((x) => f0(x.perSec / 1000)).join(', ')}, 1 worker ${ones.map((x) => f0(x.perSec / 1000)).join(', ')}; ` +
      (b.cpu < 0.8 ? `with one worker LiveTier used ${f2(b.cpu)} cores, so this load did not keep even one worker's core busy; ` : '') +
      (taskset
        ? `cores: \`--workers 1\` pinned to core ${cpu.server}; \`--workers 2\` unpinned on both cores, which it shares with the load generators (core ${cpu.load}) and PostgreSQL (unpinned): on this ${cores}-core machine two workers cannot have a core each`
        : 'cores: nothing pinned; the servers, the load generators and PostgreSQL share them'));
    const all = [...ones, ...twos];
    const accepted = all.reduce((n, x) => n + x.accepted, 0);
    const stored = all.reduce((n, x) => n + x.stored, 0);
    row('Cluster no loss: acknowledged events of the cluster ingest runs (both worker counts) found in PostgreSQL afterwards', `${f0(stored)} of ${f0(accepted)} acked`, '', '',
      accepted === stored ? 'none lost' : `**${accepted - stored} missing**`);
    if (accepted !== stored) failures.push(`cluster no loss: ${accepted - stored} acknowledged events are not in the database`);
    const errors = all.reduce((n, x) => n + x.errors, 0);
    if (errors) failures.push(`cluster ingest: ${errors} rejected or failed calls`);

    // ------------------------------------------------ 2 + 3. two nodes on one database and one Redis
    const db = await pgStore.create();
    const A = await node({ db, workers: 1, cpuSet: BOTH });
    const B = await node({ db, workers: 1, cpuSet: BOTH, stream: A.stream }); // B reads the stream from the database
    const stream = A.stream;
    const cs = await clients(2);
    const counts = split(P.fanout, cs.length);
    const layouts = { spread: [A, B], single: [A, A] }; // the node each fan-out generator's viewers connect to
    let connectedRound = null;
    const connectRound = async (tag, layout) => {
      await Promise.all(cs.map((c) => c.ask({ cmd: 'close' })));
      const res = await Promise.all(cs.map((c, i) => c.ask({ cmd: 'connect', url: layouts[layout][i].url, streamId: stream.id, prefix: `fan-${tag}-${i}`, count: counts[i] })));
      const failed = res.reduce((n, x) => n + x.failed, 0);
      if (failed) throw new Error(`${failed} of ${P.fanout} viewers could not connect (${res.find((x) => x.refusal)?.refusal})`);
      connectedRound = tag;
    };
    // the fan-out rounds: each layout P.rounds times, alternating (spread first in even rounds)
    const order = [];
    for (let r = 0; r < P.rounds; r++) order.push(...(r % 2 === 0 ? ['spread', 'single'] : ['single', 'spread']).map((layout) => ({ tag: `${r}-${layout}`, layout })));
    if (order.length) await connectRound(order[0].tag, order[0].layout);
    else await connectRound('bg', 'spread');
    const counter = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    counter.on('error', () => {});
    // Redis traffic with nobody doing anything: presence shares and host refreshes of two nodes
    const idleMs = quickIdle(P);
    const idle0 = await redisCounters(counter);
    await sleep(idleMs);
    const idle = minus(await redisCounters(counter), idle0);
    const perKind = { cross: { commands: 0, published: 0 }, same: { commands: 0, published: 0 } };

    // 2. latency: blocks of sequential purchases, cross-node and same-node alternating, viewers on B
    const [lc] = await clients(1);
    const block = Math.max(10, Math.ceil(P.latency / 8));
    const lat = { cross: { samples: [], errors: 0 }, same: { samples: [], errors: 0 } };
    for (let k = 0; lat.cross.samples.length + lat.cross.errors < P.latency; k++) {
      const count = Math.min(block, P.latency - lat.cross.samples.length - lat.cross.errors);
      const kinds = k % 2 === 0 ? ['cross', 'same'] : ['same', 'cross'];
      for (const kind of kinds) {
        const c0 = await redisCounters(counter);
        const r = await lc.ask({ cmd: 'latency', url: B.url, purchaseUrl: kind === 'cross' ? A.url : B.url, streamId: stream.id, ingestKey: stream.ingestKey, count, prefix: `${kind}-${k}` });
        const d = minus(await redisCounters(counter), c0);
        perKind[kind].commands += d.commands;
        perKind[kind].published += d.published;
        lat[kind].samples.push(...r.samples);
        lat[kind].errors += r.errors;
      }
    }
    // one untimed push to the latency buyers (tier mid, all on node B) before the timed ones: a
    // process's first push compiles and caches its path, which the first timed round would pay
    const host = await hostSocket(A);
    const warm = await host.timeout(60_000).emitWithAck('push', { tier: 'mid', offer: { title: 'Cluster warm-up', discount: { kind: 'percent', value: 5 }, ttlSeconds: 600 } });
    if (warm.error) throw new Error(`warm-up push: ${warm.error.message}`);
    await lc.close();
    const xs = lat.cross.samples;
    const ss = lat.same.samples;
    const ratio = pct(xs, 99) / pct(ss, 99);
    row(`Cluster offer latency: \`POST /v1/purchases\` through node A → the viewer's socket on node B has the offer, p50 / p99 (ms); baseline: purchase and viewer both on node B (two nodes, \`--workers 1\` each, one database, one Redis; ${f0(P.fanout)} other viewers connected, half on each)`,
      `${f1(pct(xs, 50))} / ${f1(pct(xs, 99))}`, `${f1(pct(ss, 50))} / ${f1(pct(ss, 99))}`, f2(ratio),
      `goal p99 ≤ ${GOALS.crossNodeP99}× same-node: ${ratio <= GOALS.crossNodeP99 ? 'met' : '**not met**'}; ${xs.length} + ${ss.length} sequential purchases (each a viewer's first, as in the offer-latency row), cross- and same-node in alternating blocks of ${block}; ${lat.cross.errors} / ${lat.same.errors} errors; nodes A and B unpinned`);
    if (lat.cross.errors || lat.same.errors) failures.push(`cluster offer latency: ${lat.cross.errors + lat.same.errors} purchases without an offer`);

    // 3. fan-out: the host on node A; its viewers half on each node, or all on node A
    if (order.length) {
      const times = { spread: [], single: [] };
      const pushRedis = { spread: [], single: [] };
      const short = [];
      let missing = 0;
      for (const { tag, layout } of order) {
        if (connectedRound !== tag) await connectRound(tag, layout);
        const title = `Cluster push ${tag}`;
        await Promise.all(cs.map((c) => c.ask({ cmd: 'watch-offers', title })));
        await sleep(500);
        const r0 = await redisCounters(counter);
        const t0 = now();
        const ack = await host.timeout(60_000).emitWithAck('push', { tier: 'potential', offer: { title, discount: { kind: 'percent', value: 10 }, ttlSeconds: 600 } });
        if (ack.error) throw new Error(`push: ${ack.error.message}`);
        // a node that does not answer the send within the adapter's 5 s is left out of the host's
        // count (docs/scaling.md); its viewers may still get the offer, so the round is timed anyway
        if (ack.sent !== P.fanout) short.push(`push ${tag}: the host's ack counted ${ack.sent} of ${P.fanout} viewers (skipped ${ack.skippedTotal ?? JSON.stringify(ack.skipped)})`);
        const reports = await Promise.all(cs.map((c, i) => c.ask({ cmd: 'offers-report', title, expect: counts[i], timeoutMs: 60_000 })));
        missing += P.fanout - reports.reduce((n, x) => n + x.count, 0);
        times[layout].push(Math.max(...reports.map((x) => x.last)) - t0);
        pushRedis[layout].push(minus(await redisCounters(counter), r0));
      }
      const perPush = (xs) => (xs.length ? { commands: median(xs.map((x) => x.commands)), published: median(xs.map((x) => x.published)) } : null);
      const sp0 = perPush(pushRedis.spread);
      const n = (kind) => lat[kind].samples.length + lat[kind].errors || 1;
      row('Cluster Redis traffic (two nodes): commands / messages published, idle per second; per purchase whose offer goes to a viewer on the other node (same node); per push to ' +
        `${f0(P.fanout)} viewers over both nodes (median)`,
        `idle ${f1(idle.commands / (idleMs / 1000))} / ${f1(idle.published / (idleMs / 1000))} per s; cross-node offer ${f1(perKind.cross.commands / n('cross'))} / ${f1(perKind.cross.published / n('cross'))} (same node ${f1(perKind.same.commands / n('same'))} / ${f1(perKind.same.published / n('same'))}); push ${sp0 ? `${f0(sp0.commands)} / ${f0(sp0.published)}` : '–'}`,
        '', '', 'from Redis INFO commandstats deltas (PUBLISH + SPUBLISH); includes the host socket\'s updates and anyone else using this Redis; the capacity model in docs/scaling.md uses these');
      const sp = median(times.spread);
      const si = median(times.single);
      row(`Cluster host push fan-out: push (host on node A) → the last of ${f0(P.fanout)} potential viewers has it, half on node A and half on node B (ms, median of ${P.rounds}); baseline: all on node A`,
        f0(sp), f0(si), f2(sp / si),
        `no goal stated for this figure (lower is better; below 1: two nodes deliver faster than one); every round (ms): spread ${times.spread.map(f0).join(', ')}, one node ${times.single.map(f0).join(', ')}; rounds alternate, after one untimed push; nodes A and B unpinned` +
        (short.length || missing ? `; **${[...short, ...(missing ? [`${missing} offers never arrived`] : [])].join('; ')}**` : ''));
      if (missing) failures.push(`cluster fan-out: ${missing} offers never arrived`);
      for (const x of short) failures.push(`cluster fan-out: ${x}`);
    }
    host.close();
    counter.disconnect();
    for (const c of cs) await c.close();
    await A.close();
    await B.close();
    await pgStore.drop(db);
  } finally {
    // someone else's work may restart the shared Redis (the integration suite's outage test does):
    // the report says so, since a push or an offer across nodes can miss its moment then
    const after = await redisVersion();
    if (after.why || after.runId !== redis.runId) {
      notes.push(`**Redis ${after.why ? `did not answer at the end of the cluster phase (${after.why})` : 'restarted during the cluster phase'}** (not the bench's doing): its rows may include an outage.`);
    }
    killChildren();
    // a worker outlives a killed primary only briefly (it exits when its IPC channel closes); make sure
    await sleep(100);
    for (const pid of pids) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cluster-node.mjs')) process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await pgStore.dropAll();
  }
}
