/**
 * `--workers N`: N LiveTier processes on one machine behind one port, so the machine uses all its
 * cores (Node runs JavaScript on one). The primary process only accepts connections and hands each
 * to a worker (`@socket.io/sticky`): a WebSocket (and any request without a body) moves to the
 * worker whole, and socket.io's polling requests of one session always reach the worker that holds
 * the session (`sid` in the URL), which polling needs. The workers are full servers sharing
 * PostgreSQL and Redis like any cluster's processes; a worker that dies is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { setupMaster } from '@socket.io/sticky';
import type { Config } from './config.js';

/** the message a worker sends once its app is ready for connections */
export const WORKER_READY = 'livetier:worker-ready';
/** a worker that fails at start is not restarted in a loop: after this many quick deaths the primary gives up */
const MAX_QUICK_RESTARTS = 5;
const QUICK_MS = 10_000;

export const isWorker = () => cluster.isWorker && process.env.LIVETIER_WORKER === '1';

export interface Primary {
  url: string;
  close: () => Promise<void>;
}

/** Starts the primary: forks the workers, waits until each is ready, then listens. */
export async function runPrimary(config: Config): Promise<Primary> {
  const server = http.createServer();
  setupMaster(server, { loadBalancingMethod: 'least-connection' });
  // the first bytes of each connection travel with it to the worker: as a Buffer, not as JSON
  cluster.setupPrimary({ serialization: 'advanced' });
  // the workers share one admin key (a generated one too)
  const env = { LIVETIER_WORKER: '1', LIVETIER_ADMIN_KEY: config.adminKey };
  let stopping = false;
  let quickDeaths = 0;
  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork(env);
      const born = Date.now();
      const onMessage = (m: unknown) => {
        if ((m as { type?: string })?.type !== WORKER_READY) return;
        w.off('message', onMessage);
        resolve(w);
      };
      w.on('message', onMessage);
      w.once('exit', (code, signal) => {
        reject(new Error(`worker exited (${signal ?? code}) before it was ready`));
        if (stopping) return;
        quickDeaths = Date.now() - born < QUICK_MS ? quickDeaths + 1 : 0;
        if (quickDeaths >= MAX_QUICK_RESTARTS) {
          console.error(`livetier: workers keep dying at start; giving up`);
          process.exit(1);
        }
        console.error(`livetier: worker ${w.process.pid} exited (${signal ?? code}); starting another`);
        fork().catch(() => {});
      });
    });
  await Promise.all(Array.from({ length: config.workers }, fork));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      stopping = true;
      server.close();
      // each worker drains as a single server does on SIGTERM (commit, ack, close transports)
      const exits = Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w || w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      );
      await Promise.all(exits);
    },
  };
}
