/**
 * The root plugin: opens the store, builds the engine, attaches socket.io and registers every
 * route, the error handler and the 404 handler. It never listens (main.ts and tests do).
 */
import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Server as SocketIOServer } from 'socket.io';
import { openDatabase } from './store/db.js';
import { createRepo, type Repo } from './store/repo.js';
import { Engine, type Clock } from './engine.js';
import { attachRealtime, SOCKET_IO_PATH } from './realtime/index.js';
import { HttpError } from './routes/guards.js';
import { streamRoutes } from './routes/streams.js';
import { merchantRoutes } from './routes/merchant.js';
import { assetRoutes } from './routes/assets.js';
import { feedRoutes } from './routes/feed.js';
import { collectRoutes } from './routes/collect.js'; // issue 5: the SDK's beacon

export interface AppOptions {
  db: string;
  adminKey: string;
  sync?: 'normal' | 'full';
  clock?: Clock;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: { adminKey: string };
    repo: Repo;
    engine: Engine;
    io: SocketIOServer;
    realtime: ReturnType<typeof attachRealtime>;
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

  const realtime = attachRealtime(fastify.server, { engine, repo, clock, log: fastify.log });
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

  fastify.get('/healthz', async () => ({ ok: true }));
  await fastify.register(streamRoutes);
  await fastify.register(merchantRoutes);
  await fastify.register(feedRoutes);
  await fastify.register(collectRoutes); // issue 5
  await fastify.register(assetRoutes);

  fastify.addHook('onClose', async () => {
    realtime.hosts.close();
    await new Promise<void>((resolve) => realtime.io.close(() => resolve()));
    engine.close();
    db.close();
  });
}

export default fp(app, { name: 'livetier', fastify: '5.x' });

/** Fastify options shared by main.ts and the tests. */
export function fastifyOptions(logLevel = 'info') {
  return {
    bodyLimit: BODY_LIMIT_BYTES,
    logger: logLevel === 'silent' ? false : { level: logLevel, redact: ['req.headers.authorization'] },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    schemaErrorFormatter: (errors: any[], dataVar: string) => {
      const e = errors[0];
      const where = `${dataVar}${e.instancePath ? e.instancePath.replaceAll('/', '.') : ''}`;
      const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : '';
      return new Error(`${where} ${e.message}${extra}`);
    },
  };
}
