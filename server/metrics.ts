/**
 * Prometheus metrics (prom-client): `GET /metrics` on the main port (admin key), or a listener of
 * its own (`--metrics-port`, no key, loopback by default; see main.ts). Each app has a Registry of
 * its own, never prom-client's global one: tests start many apps in one process. The default
 * process metrics (CPU, memory, GC, event-loop lag) describe the process, not an app, so they are
 * created once per process in a registry of this module and shared by every app's registry.
 *
 * Labels are low-cardinality by construction: route patterns (never raw URLs), status codes,
 * namespaces, tiers and closed sets of reasons. No viewer id, key, stream id or coupon code is a
 * label value. See docs/operations.md for the list.
 */
import http from 'node:http';
import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Server as SocketIOServer } from 'socket.io';
import type { Engine } from './engine.js';
import type { Store } from './store/types.js';
import type { WriterObserver } from './ingest/writer.js';
import type { RealtimeObserver, RejectReason } from './realtime/handlers/viewer.js';
import { TIERS } from './realtime/events.js';
import { requireAdmin } from './routes/guards.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** this app's metrics (server/metrics.ts) */
    metrics: AppMetrics;
  }
}

export const METRICS_PATH = '/metrics';
/** route label of a request no route matched (404s of unknown paths) */
export const UNMATCHED_ROUTE = '(unmatched)';
export const REJECT_REASONS: readonly RejectReason[] = ['invalid', 'rate_limited', 'bad_request', 'unavailable'];

let processMetrics: Registry | null = null;

/** the default process metrics, created on first use, once per process */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export interface AppMetrics {
  registry: Registry;
  /** the scrape: every metric in the Prometheus text format */
  text(): Promise<string>;
  contentType: string;
  /** what the /viewer namespace reports (events tracked, offers issued and delivered) */
  realtime: RealtimeObserver;
  /** what the group-commit writer reports per batch */
  writer: WriterObserver;
  /** an offer code was redeemed now (not an idempotent repeat) */
  offerRedeemed(): void;
  /** one webhook delivery attempt (services/webhooks.ts) */
  webhookAttempt(outcome: 'delivered' | 'retrying' | 'failed' | 'refused', seconds: number): void;
  observeHttp(method: string, route: string | undefined, statusCode: number, seconds: number): void;
}

/**
 * The app's metrics. `io` is read at scrape time (socket.io is attached after this is built);
 * the gauges are collected at scrape time from the engine's live state.
 */
export function createMetrics(src: { engine: Engine; io: () => SocketIOServer | undefined }): AppMetrics {
  const registry = new Registry();
  // the shared process metrics first (the same objects in every app's registry of this process)
  for (const m of processRegistry().getMetricsAsArray()) registry.registerMetric(m as unknown as Metric);
  const registers = [registry];

  const httpDuration = new Histogram({
    name: 'livetier_http_request_duration_seconds',
    help: 'REST requests by method, route pattern and status code: time to the response.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  new Gauge({
    name: 'livetier_socketio_connections',
    help: 'socket.io connections open on this process, by namespace.',
    labelNames: ['namespace'] as const,
    registers,
    collect() {
      const io = src.io();
      if (!io) return;
      for (const [name, nsp] of io._nsps) this.set({ namespace: name }, nsp.sockets.size);
    },
  });

  const accepted = new Counter({ name: 'livetier_events_accepted_total', help: 'Tracked events stored (socket.io track calls).', registers });
  const duplicates = new Counter({
    name: 'livetier_events_duplicate_total',
    help: 'Tracked events whose id was already stored (a resend; not stored again).',
    registers,
  });
  const rejected = new Counter({
    name: 'livetier_events_rejected_total',
    help: 'Tracked events refused, by reason: invalid (failed the schema), rate_limited, bad_request (the call was malformed), unavailable (the store did not answer).',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0); // every reason is a series from the start

  const batchSize = new Histogram({
    name: 'livetier_ingest_batch_size',
    help: 'Jobs (joins, track calls, deliveries, tier changes) committed together by the group-commit writer.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
    registers,
  });
  const commitSeconds = new Histogram({
    name: 'livetier_ingest_commit_duration_seconds',
    help: "The group-commit writer's transactions: time from the start of a batch's commit to its end.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const commitErrors = new Counter({
    name: 'livetier_ingest_commit_errors_total',
    help: 'Group-commit batches whose transaction failed (their callers were answered with an error).',
    registers,
  });
  new Gauge({
    name: 'livetier_ingest_queue_jobs',
    help: 'Jobs waiting for the next group commit.',
    registers,
    collect() {
      this.set(src.engine.writer.pending);
    },
  });

  const issued = new Counter({ name: 'livetier_offers_issued_total', help: 'Offers issued by this process (handed to the realtime layer to push).', registers });
  const delivered = new Counter({ name: 'livetier_offers_delivered_total', help: 'Offers a client acknowledged (first acknowledgement of each offer).', registers });
  const redeemed = new Counter({
    name: 'livetier_offers_redeemed_total',
    help: 'Offer codes redeemed (POST /v1/coupons/:code/redeem or a purchase carrying the code), counted once at the commit; idempotent repeats are not counted.',
    registers,
  });

  const webhookAttempts = new Histogram({
    name: 'livetier_webhook_delivery_seconds',
    help: 'Webhook delivery attempts by outcome (delivered, retrying, failed: gave up, refused: the target policy refused the address), and how long each took.',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  new Gauge({
    name: 'livetier_viewers_connected',
    help: "Viewers connected to this process's live streams, by tier.",
    labelNames: ['tier'] as const,
    registers,
    collect() {
      const sum: Record<string, number> = Object.fromEntries(TIERS.map((t) => [t, 0]));
      for (const live of src.engine.streams.values()) for (const t of TIERS) sum[t]! += live.tiers[t];
      for (const t of TIERS) this.set({ tier: t }, sum[t]!);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    realtime: {
      tracked: (a, d) => {
        if (a) accepted.inc(a);
        if (d) duplicates.inc(d);
      },
      rejected: (reason, n) => {
        if (n > 0) rejected.inc({ reason }, n);
      },
      offerIssued: () => issued.inc(),
      offerDelivered: () => delivered.inc(),
    },
    writer: ({ jobs, seconds, ok }) => {
      if (!ok) return commitErrors.inc();
      batchSize.observe(jobs);
      commitSeconds.observe(seconds);
    },
    offerRedeemed: () => redeemed.inc(),
    webhookAttempt: (outcome, seconds) => webhookAttempts.observe({ outcome }, seconds),
    observeHttp: (method, route, statusCode, seconds) =>
      httpDuration.observe({ method, route: route ?? UNMATCHED_ROUTE, status_code: String(statusCode) }, seconds),
  };
}

/**
 * Redemptions happen in the store, in the transaction that marks the code used; its answer says
 * whether this call redeemed it (`now`) or repeated an earlier redemption by the same order. The
 * store's two entry points are wrapped on this instance (no service code changes).
 */
function countRedemptions(store: Store, redeemed: () => void) {
  const redeem = store.redeem.bind(store);
  store.redeem = async (...args) => {
    const r = await redeem(...args);
    if (r.status === 'redeemed' && r.now) redeemed();
    return r;
  };
  const count = (r: Awaited<ReturnType<Store['recordPurchase']>>) => {
    if (r.inserted && r.coupon?.status === 'redeemed' && r.coupon.now !== false) redeemed();
  };
  const recordPurchase = store.recordPurchase.bind(store);
  store.recordPurchase = async (...args) => {
    const r = await recordPurchase(...args);
    count(r);
    return r;
  };
  // the merchant API's group commit (services/commerce.ts) records purchases many at a time
  const recordPurchases = store.recordPurchases.bind(store);
  store.recordPurchases = async (...args) => {
    const rs = await recordPurchases(...args);
    rs.forEach(count);
    return rs;
  };
}

/**
 * Builds the app's metrics and wires them: the HTTP histogram (hooks on the root, so every route
 * registered after counts), the writer's observer, the redemption counter, and `GET /metrics`
 * (admin key). The realtime observer is for attachRealtime (`observer`).
 */
export function installMetrics(fastify: FastifyInstance, engine: Engine, store: Store): AppMetrics {
  const metrics = createMetrics({ engine, io: () => (fastify.hasDecorator('io') ? fastify.io : undefined) });
  fastify.decorate('metrics', metrics);
  engine.writer.observer = metrics.writer;
  countRedemptions(store, metrics.offerRedeemed);
  fastify.addHook('onResponse', async (req, reply) => {
    metrics.observeHttp(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  fastify.get(METRICS_PATH, { preHandler: requireAdmin }, async (_req, reply) => {
    const body = await metrics.text();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(body);
  });
  return metrics;
}

export interface MetricsListener {
  url: string;
  close: () => Promise<void>;
}

/**
 * `--metrics-port`: a plain HTTP listener answering `GET /metrics` without a key (bind it to
 * loopback or a private interface). `scrape` gives the text; anything else is 404 or 405.
 */
export async function listenMetrics(opts: { port: number; host: string; scrape: () => Promise<string>; contentType: string }): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no route ${path}; metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    opts.scrape().then(
      (body) => {
        res.writeHead(200, { 'content-type': opts.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${err.message}\n`);
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * `--workers N`: each worker answers the primary's requests for its registry (prom-client's
 * cluster messages); the primary sums them (counters, gauges and histograms add up; the process
 * metrics follow prom-client's own aggregation rules).
 */
export function shareWithPrimary(registry: Registry) {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's listener for the primary's requests
}

/** The primary's scrape of every worker's metrics, summed. */
export function workersScrape(): { scrape: () => Promise<string>; contentType: string } {
  const aggregator = new AggregatorRegistry();
  return { scrape: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}
