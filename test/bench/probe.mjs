// Inside a benchmarked server process: answers the orchestrator's IPC questions about memory,
// CPU and event-loop lag, so the figures come from the server itself, not from outside guesses.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export function installProbe() {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let cpu = process.cpuUsage();
  let since = performance.now();
  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object' || !msg.probe) return;
    if (msg.probe === 'reset') {
      lag.reset();
      cpu = process.cpuUsage();
      since = performance.now();
      process.send({ probe: 'reset', ok: true });
    } else if (msg.probe === 'stats') {
      if (msg.gc && globalThis.gc) for (let i = 0; i < 3; i++) globalThis.gc();
      const m = process.memoryUsage();
      const used = process.cpuUsage(cpu);
      const wall = performance.now() - since;
      process.send({
        probe: 'stats',
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        cpu: wall > 0 ? (used.user + used.system) / 1000 / wall : 0,
        lag: { mean: lag.mean / 1e6, p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
      });
    }
  });
}
