/**
 * The root plugin: opens the store, builds the engine, attaches socket.io and registers every
 * route, the error handler and the 404 handler. It never listens (main.ts and tests do).
 */
import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Server as SocketIOServer } from 'socket.io';
import { Redis } from 'ioredis';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { setupWorker } from '@socket.io/sticky';
import { openStore } from './store/index.js';
import { Cluster, PRESENCE_TTL_MS } from './services/cluster.js';
import { StoreUnavailableError, type Store } from './store/types.js';
import { Engine, type Clock } from './engine.js';
import { attachRealtime, SOCKET_IO_PATH } from './realtime/index.js';
import { HttpError } from './routes/guards.js';
import { streamRoutes } from './routes/streams.js';
import { merchantRoutes } from './routes/merchant.js';
import { assetRoutes } from './routes/assets.js';
import { feedRoutes } from './routes/feed.js';
import { reportRoutes } from './routes/reports.js';
import rateLimit from '@fastify/rate-limit';
import { openapi } from './openapi.js'; // GET /openapi.json and /docs (issue 17)
import { DEFAULT_LIMITS, type Limits } from './config.js';
import { trustFn, type TrustProxy } from './trust-proxy.js';
import { RetentionPurger } from './store/retention.js';
import { keyRoutes } from './routes/keys.js';
import { collectRoutes } from './routes/collect.js'; // the SDK's beacon
import { campaignRoutes } from './routes/campaigns.js';
// viewer detail/list/export/erasure, channel tier rules (refunds are in merchant.ts)
import { viewerRoutes } from './routes/viewers.js';
import { channelRoutes } from './routes/channels.js';
import { channelOverviewRoutes } from './routes/channel-overview.js'; // a channel's streams compared, its read-only key
import { corsRoutes } from './routes/cors.js'; // the host panel on the streamer's own origin
import { installMetrics } from './metrics.js'; // GET /metrics (issue 17)
import { webhookRoutes } from './routes/webhooks.js'; // a channel's webhook endpoints (issue 17)
import { Webhooks, type WebhookOptions } from './services/webhooks.js';
import { StreamEnds } from './services/ending.js';
import { LifecycleSweep } from './services/lifecycle-sweep.js';
import { Models } from './services/models.js'; // each channel's predictive model (issue 15)
import { ModelFitter } from './predict/fitter.js';
import { modelRoutes } from './routes/models.js';
import { buildReport } from './routes/reports.js';
import type { Resolve, TargetPolicy } from './webhooks/address.js';

export interface AppOptions {
  /** a SQLite file path, or a postgres:// URL */
  db: string;
  /** PostgreSQL: connections in the pool */
  dbPool?: number;
  /** cluster mode: Redis for socket.io's adapter, the shared live counts and the REST limit (needs PostgreSQL) */
  redis?: string | null;
  /** a worker of `--workers N`: connections arrive from the primary process (@socket.io/sticky), not from a listen */
  sticky?: boolean;
  adminKey: string;
  sync?: 'normal' | 'full';
  clock?: Clock;
  /** raw events older than this many days are purged in the background (0 or absent: kept) */
  retentionDays?: number;
  /** flood limits; absent fields take DEFAULT_LIMITS */
  limits?: Partial<Limits>;
  /** trusted proxies for socket.io's per-IP limit; give Fastify the same through fastifyOptions() */
  trustProxy?: TrustProxy;
  /** webhook delivery: the target policy (`--webhooks-allow-http`), when a failing endpoint is disabled, the resolver (tests) */
  webhooks?: Partial<Omit<WebhookOptions, 'policy'>> & { allowHttp?: boolean };
  /** a stream nobody is connected to this long ends by itself (0: never; default 60 min) */
  streamIdleEndMs?: number;
  /** predictive models: refit when older than this (0: only on demand and at first sight; default 6 h), the buyers a fit needs (200) */
  models?: { refitMs?: number; minBuyers?: number };
}

declare module 'fastify' {
  interface FastifyInstance {
    config: { adminKey: string };
    store: Store;
    engine: Engine;
    io: SocketIOServer;
    realtime: ReturnType<typeof attachRealtime>;
    /** the background purge of old events */
    retention: RetentionPurger;
    /** webhook delivery (services/webhooks.ts) and the target policy its routes check URLs against */
    webhooks: { service: Webhooks; policy: TargetPolicy; resolve?: Resolve };
    /** the end of streams, by their host or when idle (services/ending.ts) */
    ending: StreamEnds;
    /** lifecycle moves by time alone (services/lifecycle-sweep.ts) */
    lifecycleSweep: LifecycleSweep;
    /** each channel's predictive model (services/models.ts) */
    models: Models;
  }
}

/** the largest REST body accepted (a purchase with 200 items is far below) */
export const BODY_LIMIT_BYTES = 64 * 1024;

async function app(fastify: FastifyInstance, opts: AppOptions) {
  const clock = opts.clock ?? Date.now;
  const store = await openStore(opts.db, { sync: opts.sync, poolSize: opts.dbPool });
  let redis: { pub: Redis; sub: Redis } | null = null;
  if (opts.redis) {
    try {
      redis = await connectRedis(opts.redis);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  const engine = new Engine(store, clock, undefined, (err) => fastify.log.error({ err }, 'after-commit work failed'));
  fastify.decorate('config', { adminKey: opts.adminKey });
  fastify.decorate('store', store);
  fastify.decorate('engine', engine);
  // a start that fails leaves nothing open
  try {
    await engine.start();
  } catch (err) {
    await store.close();
    if (redis) for (const c of [redis.pub, redis.sub]) c.disconnect();
    throw err;
  }

  // The upgrade split: socket.io handles upgrades on its own path; every other upgrade goes to
  // @fastify/websocket through its own emitter, so neither answers the other's requests with 404.
  const upgrades = new EventEmitter();
  fastify.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith(SOCKET_IO_PATH)) upgrades.emit('upgrade', req, socket, head);
  });
  await fastify.register(websocket, { options: { server: upgrades as any, maxPayload: 4096 } });

  // ---- API documentation (issue 17; server/openapi.ts): @fastify/swagger collects routes as they
  // are added, so it comes before any route; GET /openapi.json, the interactive docs at /docs
  await fastify.register(openapi);
  // ---- end of API documentation

  // ---- metrics (issue 17; server/metrics.ts): the app's own prom-client Registry, the HTTP
  // histogram (root hooks, before any route), the writer's observer, GET /metrics (admin key);
  // `metrics.realtime` goes to attachRealtime below (events tracked, offers issued / delivered)
  const metrics = installMetrics(fastify, engine, store);
  // ---- end of metrics

  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const realtime = attachRealtime(fastify.server, {
    engine, store, clock, log: fastify.log, limits, trustProxy: opts.trustProxy ?? false, observer: metrics.realtime,
    // sharded pub/sub (Redis 7) in `static` mode: two channels per namespace, whatever the number of
    // viewers (see docs/scaling.md for why not a channel per room)
    ...(redis ? { adapter: createShardedAdapter(redis.pub, redis.sub, { subscriptionMode: 'static' }) } : {}),
  });
  if (opts.sticky) setupWorker(realtime.io);
  let refresh: NodeJS.Timeout | undefined;
  if (redis) {
    const cluster = new Cluster({ io: realtime.io, redis: redis.pub, store, live: engine.streams, clock, log: fastify.log });
    // hosts here see the other processes' shares expire too (a killed process sends no last change)
    refresh = setInterval(() => {
      for (const id of realtime.hosts.watched()) realtime.hosts.changed(id);
    }, PRESENCE_TTL_MS / 2);
    refresh.unref();
    engine.attachCluster(cluster, {
      changed: (streamId, activity) => {
        for (const item of activity) realtime.hosts.dashboard.addActivity(streamId, item, false); // saved by the process that made it
        realtime.hosts.changed(streamId);
      },
    });
  }
  fastify.decorate('io', realtime.io);
  fastify.decorate('realtime', realtime);

  fastify.setErrorHandler((err: FastifyError | HttpError | StoreUnavailableError, req, reply) => {
    if (err instanceof StoreUnavailableError) {
      // the database is out of reach: nothing was changed; clients retry
      req.log.warn({ err: err.message }, 'store unavailable');
      const seconds = Math.max(1, Math.ceil(err.retryAfterMs / 1000));
      return reply.code(503).header('retry-after', String(seconds)).send({ statusCode: 503, error: 'unavailable', message: 'the database is unavailable; retry shortly' });
    }
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, error: err.code, message: err.message });
    }
    const status = err.statusCode ?? 500;
    if (err.validation) {
      return reply.code(400).send({ statusCode: 400, error: 'bad_request', message: err.message });
    }
    if (status >= 400 && status < 500) {
      const code =
        status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 404 ? 'not_found' : 'bad_request';
      return reply.code(status).send({ statusCode: status, error: code, message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ statusCode: 500, error: 'internal', message: 'internal error' });
  });

  fastify.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ statusCode: 404, error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  // per-IP REST limit (429 rate_limited through the error handler above); retention purge
  if (limits.restPerMinute > 0) {
    await fastify.register(rateLimit, {
      max: limits.restPerMinute,
      timeWindow: 60_000,
      cache: 50_000,
      // in cluster mode the count per address is shared by every process
      ...(redis ? { redis: redis.pub, nameSpace: 'lt:rate:', skipOnError: true } : {}),
      errorResponseBuilder: (_req, ctx) =>
        new HttpError(429, 'rate_limited', `more than ${ctx.max} requests per minute from this address; retry in ${ctx.after}`),
    });
  }
  const retention = new RetentionPurger((cutoff, batch) => store.purgeEvents(cutoff, batch), {
    days: opts.retentionDays ?? 0,
    clock,
    onError: (err) => fastify.log.error({ err }, 'retention purge failed'),
  });
  fastify.decorate('retention', retention);
  fastify.addHook('onReady', async () => void retention.start());
  await fastify.register(keyRoutes);

  await fastify.register(corsRoutes);
  // 503 while the store is out of reach, so a load balancer sends traffic elsewhere
  fastify.get('/healthz', async (_req, reply) => {
    try {
      await store.ping();
      return { ok: true };
    } catch {
      return reply.code(503).header('retry-after', '1').send({ ok: false, error: 'unavailable', message: 'the database is unavailable' });
    }
  });
  // readiness (a load balancer's or orchestrator's "send traffic here?"): 200 only when the store
  // answers and, in cluster mode, Redis does; /healthz above stays the liveness check
  let closing = false;
  fastify.get('/readyz', async (_req, reply) => {
    const failed = await notReady(store, redis, () => closing);
    if (!failed.length) return { ok: true };
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({ ok: false, error: 'unavailable', failed, message: `not ready: ${failed.map((f) => READY_FAILURES[f]).join('; ')}` });
  });
  await fastify.register(streamRoutes);
  await fastify.register(merchantRoutes);
  await fastify.register(feedRoutes);
  await fastify.register(reportRoutes); // viewers.csv and the stream report
  await fastify.register(collectRoutes);
  await fastify.register(campaignRoutes); // campaigns, stats, manual sends
  await fastify.register(viewerRoutes);
  await fastify.register(channelRoutes);
  await fastify.register(channelOverviewRoutes);

  // ---- webhooks and the end of streams (issue 17): the outbox is sent on a timer of its own, so a
  // slow receiver never delays ingest or the due jobs; idle streams are looked for once a minute
  const policy: TargetPolicy = { allowHttp: opts.webhooks?.allowHttp ?? false };
  const webhooks = new Webhooks({
    store, clock, policy, resolve: opts.webhooks?.resolve, timeoutMs: opts.webhooks?.timeoutMs,
    disableAfterMs: opts.webhooks?.disableAfterMs ?? 72 * 3_600_000,
    onError: (err) => fastify.log.error({ err }, 'webhook delivery failed'),
    observe: metrics.webhookAttempt,
  });
  fastify.decorate('webhooks', { service: webhooks, policy, resolve: opts.webhooks?.resolve });
  const ending = new StreamEnds({
    store, clock, idleMs: opts.streamIdleEndMs ?? 60 * 60_000,
    report: async (s) => (await buildReport(fastify, s)) ?? {},
    connectedStreams: function* () {
      for (const live of engine.streams.values()) if (live.present.size) yield live.stream.id;
    },
    onError: (err) => fastify.log.error({ err }, 'ending idle streams failed'),
  });
  fastify.decorate('ending', ending);
  // time alone moves lifecycles (at_risk, lapsed): swept every few minutes, reported like any change
  const sweep = new LifecycleSweep({ store, tiering: engine.tiering, clock, onError: (err) => fastify.log.error({ err }, 'the lifecycle sweep failed') });
  fastify.decorate('lifecycleSweep', sweep);
  const models = new Models({
    store, clock, fitter: new ModelFitter(), refitMs: opts.models?.refitMs, minBuyers: opts.models?.minBuyers,
    onError: (err, channel) => fastify.log.error({ err, channel }, 'the model fit failed'),
    onFitted: (channel) => void engine.tiering.modelFitted(channel).catch((err) => fastify.log.error({ err, channel }, 're-tiering after a model fit failed')),
  });
  engine.tiering.valueModel = (channel) => models.peek(channel);
  engine.campaigns.crossSellRules = async (channel) => (await models.get(channel))?.crossSell?.rules ?? [];
  fastify.decorate('models', models);
  await fastify.register(modelRoutes);
  await fastify.register(webhookRoutes);
  const sender = setInterval(() => {
    void webhooks.tick();
    void ending.tick();
    void sweep.tick();
    void models.tick();
  }, 1000);
  sender.unref();
  // ---- end of webhooks

  // due jobs (cart_abandoned campaigns; work a dead process left claimed) are claimed once a second on the engine's clock
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    engine
      .tick()
      .catch((err) => fastify.log.error({ err }, 'due jobs failed'))
      .finally(() => (ticking = false));
  }, 1000);
  ticker.unref();
  await fastify.register(assetRoutes);

  // before the HTTP server closes (it would wait for the open sockets): refuse new sockets,
  // commit what is queued and let those acks go out, then close every transport (clients see
  // "transport close" and reconnect to the next server by themselves)
  fastify.addHook('preClose', async () => {
    closing = true; // /readyz answers 503 from now on
    retention.stop();
    await realtime.drain();
    realtime.io.engine.close();
  });

  fastify.addHook('onClose', async () => {
    clearInterval(ticker);
    clearInterval(sender);
    await webhooks.close();
    await models.close();
    clearInterval(refresh);
    await realtime.hosts.close(); // saves the hosts' unsaved live history
    await new Promise<void>((resolve) => realtime.io.close(() => resolve()));
    await engine.close();
    await store.close();
    if (redis) await Promise.all([redis.pub.quit().catch(() => {}), redis.sub.quit().catch(() => {})]);
  });
}

export default fp(app, { name: 'livetier', fastify: '5.x' });

/** how long /readyz waits for each dependency */
export const READY_TIMEOUT_MS = 1_000;
const READY_FAILURES = { store: 'the database is unavailable', redis: 'Redis is unavailable', shutdown: 'the server is shutting down' } as const;
type ReadyFailure = keyof typeof READY_FAILURES;

/** the dependencies that did not answer within READY_TIMEOUT_MS (empty: ready) */
async function notReady(store: Store, redis: { pub: Redis } | null, closing: () => boolean): Promise<ReadyFailure[]> {
  if (closing()) return ['shutdown'];
  const within = (p: Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS)));
    return Promise.race([p, timeout]).then(
      () => true,
      () => false,
    ).finally(() => clearTimeout(timer));
  };
  const [storeOk, redisOk] = await Promise.all([within(store.ping()), redis ? within(redis.pub.ping()) : Promise.resolve(true)]);
  return [...(storeOk ? [] : ['store' as const]), ...(redisOk ? [] : ['redis' as const])];
}

/** Redis could not be reached at start (cluster mode) */
export class RedisUnavailableError extends Error {}

/**
 * Two connections (socket.io's adapter needs one for subscribing); resolves when both answer.
 * While running, ioredis reconnects by itself; commands fail fast meanwhile (nothing of ingest
 * waits on Redis).
 */
export async function connectRedis(url: string): Promise<{ pub: Redis; sub: Redis }> {
  const where = (() => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || 6379}`;
    } catch {
      return 'redis';
    }
  })();
  const pub = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, lazyConnect: true });
  const sub = pub.duplicate();
  // After a reconnect ioredis subscribes again with promises nobody holds (and the adapter drops
  // those of its own SSUBSCRIBE calls): a shutdown before Redis answered them rejects them with
  // "Connection is closed", unhandled. A subscription is kept by ioredis itself, so those are moot.
  const ssubscribe = sub.ssubscribe.bind(sub) as (...args: unknown[]) => Promise<unknown>;
  (sub as unknown as { ssubscribe: typeof ssubscribe }).ssubscribe = (...args) => {
    const p = ssubscribe(...args);
    p.catch(() => {});
    return p;
  };
  for (const c of [pub, sub]) c.on('error', () => {}); // reconnects are ioredis's job; errors surface on the commands
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    throw new RedisUnavailableError(`Redis at ${where} is unreachable: ${(err as Error).message}`);
  }
  return { pub, sub };
}

/** what a request log line says: no headers, no body, secret query values and coupon codes masked. */
export function logRequest(req: { method: string; url: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: req.method,
    url: req.url
      .replace(/([?&](?:key|token|hostKey|ingestKey)=)[^&#]*/gi, '$1[redacted]')
      .replace(/^(\/v1\/coupons\/)[^/?#]*/, '$1[redacted]'), // a coupon code is worth money
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Fastify options shared by main.ts and the tests; `trustProxy` as in AppOptions (REST's `request.ip`, so its per-IP limit). */
export function fastifyOptions(logLevel = 'info', trustProxy: TrustProxy = false) {
  return {
    trustProxy: trustFn(trustProxy) ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // logs carry no keys or tokens: the raw feed takes `?key=`, so query values of secrets are masked
    logger: logLevel === 'silent' ? false : { level: logLevel, redact: ['req.headers.authorization'], serializers: { req: logRequest } },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    schemaErrorFormatter: (errors: any[], dataVar: string) => {
      const e = errors[0];
      const where = `${dataVar}${e.instancePath ? e.instancePath.replaceAll('/', '.') : ''}`;
      const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : '';
      return new Error(`${where} ${e.message}${extra}`);
    },
  };
}
