/**
 * The root plugin: opens the store, builds the engine, attaches socket.io and registers every
 * route, the error handler and the 404 handler. It never listens (main.ts and tests do).
 */
import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Server as SocketIOServer } from 'socket.io';
import { openDatabase } from './store/sqlite/db.js';
import { createRepo, type Repo } from './store/sqlite/repo.js';
import { Engine, type Clock } from './engine.js';
import { attachRealtime, SOCKET_IO_PATH } from './realtime/index.js';
import { HttpError } from './routes/guards.js';
import { streamRoutes } from './routes/streams.js';
import { merchantRoutes } from './routes/merchant.js';
import { assetRoutes } from './routes/assets.js';
import { feedRoutes } from './routes/feed.js';
import { reportRoutes } from './routes/reports.js'; // issue 6
// issue 8: reliability and security
import rateLimit from '@fastify/rate-limit';
import { DEFAULT_LIMITS, type Limits } from './config.js';
import { trustFn, type TrustProxy } from './trust-proxy.js';
import { RetentionPurger } from './store/sqlite/retention.js';
import { keyRoutes } from './routes/keys.js';
import { collectRoutes } from './routes/collect.js'; // issue 5: the SDK's beacon
import { campaignRoutes } from './routes/campaigns.js'; // issue 4
// issue 3: viewer detail/list/export/erasure, channel tier rules (refunds are in merchant.ts)
import { viewerRoutes } from './routes/viewers.js';
import { channelRoutes } from './routes/channels.js';
import { corsRoutes } from './routes/cors.js'; // issue 6: the host panel on the streamer's own origin

export interface AppOptions {
  db: string;
  adminKey: string;
  sync?: 'normal' | 'full';
  clock?: Clock;
  /** issue 8: raw events older than this many days are purged in the background (0 or absent: kept) */
  retentionDays?: number;
  /** issue 8: flood limits; absent fields take DEFAULT_LIMITS */
  limits?: Partial<Limits>;
  /** issue 8: trusted proxies for socket.io's per-IP limit; give Fastify the same through fastifyOptions() */
  trustProxy?: TrustProxy;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: { adminKey: string };
    repo: Repo;
    engine: Engine;
    io: SocketIOServer;
    realtime: ReturnType<typeof attachRealtime>;
    /** issue 8: the background purge of old events */
    retention: RetentionPurger;
  }
}

/** the largest REST body accepted (a purchase with 200 items is far below) */
export const BODY_LIMIT_BYTES = 64 * 1024;

async function app(fastify: FastifyInstance, opts: AppOptions) {
  const clock = opts.clock ?? Date.now;
  const db = openDatabase(opts.db, { synchronous: opts.sync });
  const repo = createRepo(db);
  const engine = new Engine(repo, clock);
  fastify.decorate('config', { adminKey: opts.adminKey });
  fastify.decorate('repo', repo);
  fastify.decorate('engine', engine);

  // The upgrade split: socket.io handles upgrades on its own path; every other upgrade goes to
  // @fastify/websocket through its own emitter, so neither answers the other's requests with 404.
  const upgrades = new EventEmitter();
  fastify.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith(SOCKET_IO_PATH)) upgrades.emit('upgrade', req, socket, head);
  });
  await fastify.register(websocket, { options: { server: upgrades as any, maxPayload: 4096 } });

  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const realtime = attachRealtime(fastify.server, { engine, repo, clock, log: fastify.log, limits, trustProxy: opts.trustProxy ?? false });
  fastify.decorate('io', realtime.io);
  fastify.decorate('realtime', realtime);

  fastify.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
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

  // issue 8: per-IP REST limit (429 rate_limited through the error handler above); retention purge
  if (limits.restPerMinute > 0) {
    await fastify.register(rateLimit, {
      max: limits.restPerMinute,
      timeWindow: 60_000,
      cache: 50_000,
      errorResponseBuilder: (_req, ctx) =>
        new HttpError(429, 'rate_limited', `more than ${ctx.max} requests per minute from this address; retry in ${ctx.after}`),
    });
  }
  const retention = new RetentionPurger(db, { days: opts.retentionDays ?? 0, clock, onError: (err) => fastify.log.error({ err }, 'retention purge failed') });
  fastify.decorate('retention', retention);
  fastify.addHook('onReady', async () => void retention.start());
  await fastify.register(keyRoutes);

  await fastify.register(corsRoutes);
  fastify.get('/healthz', async () => ({ ok: true }));
  await fastify.register(streamRoutes);
  await fastify.register(merchantRoutes);
  await fastify.register(feedRoutes);
  await fastify.register(reportRoutes); // issue 6: viewers.csv and the stream report
  await fastify.register(collectRoutes); // issue 5
  await fastify.register(campaignRoutes); // issue 4: campaigns, stats, manual sends
  await fastify.register(viewerRoutes); // issue 3
  await fastify.register(channelRoutes); // issue 3
  // issue 4: time-driven triggers (cart_abandoned) are swept once a second on the engine's clock
  const ticker = setInterval(() => {
    try {
      engine.tick();
    } catch (err) {
      fastify.log.error({ err }, 'campaign sweep failed');
    }
  }, 1000);
  ticker.unref();
  await fastify.register(assetRoutes);

  // issue 8: before the HTTP server closes (it would wait for the open sockets): refuse new sockets,
  // commit what is queued and let those acks go out, then close every transport (clients see
  // "transport close" and reconnect to the next server by themselves)
  fastify.addHook('preClose', async () => {
    retention.stop();
    await realtime.drain();
    realtime.io.engine.close();
  });

  fastify.addHook('onClose', async () => {
    clearInterval(ticker); // issue 4
    realtime.hosts.close();
    await new Promise<void>((resolve) => realtime.io.close(() => resolve()));
    engine.close();
    db.close();
  });
}

export default fp(app, { name: 'livetier', fastify: '5.x' });

/** issue 8: what a request log line says: no headers, no body, secret query values and coupon codes masked. */
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
    // issue 8: logs carry no keys or tokens: the raw feed takes `?key=`, so query values of secrets are masked
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
