/**
 * Integration helpers: a real LiveTier server on an ephemeral port with a database of its own,
 * real socket.io clients, and fetch.
 *
 * The store comes from `LIVETIER_TEST_STORE`: `sqlite` (the default) puts a file in a temporary
 * directory; `postgres` creates a database on the server `LIVETIER_TEST_PG` names (test/helpers/pg.ts).
 * The `integration-pg` project of vitest.config.ts sets it, so the suite runs once on each store.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { inject } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import livetier, { fastifyOptions, type AppOptions } from '../../server/app.js';
import { isPostgresUrl } from '../../server/store/index.js';
import { httpApi, type Api } from './http.js';
import { createDatabase, databaseName, dropDatabase } from './pg.js';
import type { Clock } from '../../server/engine.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export type TestStore = 'sqlite' | 'postgres';

function testStore(): TestStore {
  const v = process.env.LIVETIER_TEST_STORE ?? 'sqlite';
  if (v !== 'sqlite' && v !== 'postgres') throw new Error(`LIVETIER_TEST_STORE must be sqlite or postgres, not ${JSON.stringify(v)}`);
  return v;
}

/** the store this run's test servers use */
export const TEST_STORE: TestStore = testStore();

/** A database for one test: a SQLite file or a PostgreSQL database, and a temporary directory. */
export interface TestDatabase {
  /** what the server's `db` option and the CLI's `--db` take: the file's path, or the database's URL */
  db: string;
  kind: TestStore;
  /** a temporary directory for the test's own files, one per database (SQLite: the one holding the file) */
  dir: string;
  /** removes the directory and drops the PostgreSQL database (once, however often it is called) */
  remove: () => Promise<void>;
}

/**
 * A fresh database of this run's store, or (`db` given) an existing one to carry on with, as a
 * restart does. Every TestDatabase of one database shares its directory (SQLite: the file's;
 * PostgreSQL: one named after the database), and any of them removes both: the last server on
 * a database cleans up after all of them.
 */
export async function testDatabase(opts: { db?: string; prefix?: string } = {}): Promise<TestDatabase> {
  const kind: TestStore = opts.db ? (isPostgresUrl(opts.db) ? 'postgres' : 'sqlite') : TEST_STORE;
  const prefix = opts.prefix ?? 'livetier-test-';
  let removed: Promise<void> | undefined;
  if (kind === 'sqlite') {
    const dir = opts.db ? path.dirname(opts.db) : mkdtempSync(path.join(tmpdir(), prefix));
    const remove = () => (removed ??= (async () => rmSync(dir, { recursive: true, force: true }))());
    return { db: opts.db ?? path.join(dir, 'livetier.db'), kind, dir, remove };
  }
  // pgRun is provided by the integration-pg project's global setup; a lone run goes without it
  const db = opts.db ?? (await createDatabase(inject('pgRun') || undefined));
  const dir = path.join(tmpdir(), `${prefix}${databaseName(db)}`);
  mkdirSync(dir, { recursive: true });
  const remove = () =>
    (removed ??= (async () => {
      rmSync(dir, { recursive: true, force: true });
      await dropDatabase(db);
    })());
  return { db, kind, dir, remove };
}

export interface TestServer {
  url: string;
  /** the SQLite file's path or the PostgreSQL database's URL: give it to another server to restart on it */
  db: string;
  kind: TestStore;
  /** a temporary directory for the test's own files (removed by `close`) */
  dir: string;
  app: Awaited<ReturnType<typeof build>>;
  api: Api;
  /** closes the server, keeping its database (a restart test starts another on it) */
  stop: () => Promise<void>;
  /** closes the server and removes its database and directory */
  close: () => Promise<void>;
}

async function build(db: string, clock?: Clock, extra: Partial<AppOptions> = {}, fastify: Record<string, unknown> = {}) {
  const app = Fastify({ ...fastifyOptions(process.env.TEST_LOG_LEVEL ?? 'silent', extra.trustProxy), ...fastify });
  await app.register(livetier, { db, adminKey: ADMIN_KEY, clock, ...extra });
  return app;
}

/**
 * Starts a server on a fresh database, or on `db`, an existing one (restart tests).
 * `app`: more AppOptions (limits, retention); `fastify`: Fastify options over the defaults (a logger stream).
 */
export async function startServer(
  opts: { clock?: Clock; db?: string; port?: number; app?: Partial<AppOptions>; fastify?: Record<string, unknown> } = {},
): Promise<TestServer> {
  const target = await testDatabase({ db: opts.db });
  let app: Awaited<ReturnType<typeof build>> | undefined;
  try {
    app = await build(target.db, opts.clock, opts.app, opts.fastify);
    await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  } catch (err) {
    await app?.close().catch(() => {});
    // a database made for this server goes with it; one passed in stays with its owner
    if (!opts.db) await target.remove();
    throw err;
  }
  const started = app;
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const api = httpApi(url);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= started.close().then(() => {}));
  const close = async () => {
    await stop();
    await target.remove();
  };
  return { url, db: target.db, kind: target.kind, dir: target.dir, app: started, api, stop, close };
}

export interface StreamKeys {
  id: string;
  channel: string;
  hostKey: string;
  ingestKey: string;
}

export async function createStream(srv: TestServer, body: Record<string, unknown> = {}): Promise<StreamKeys> {
  const r = await srv.api('POST', '/v1/streams', { title: 'Test stream', ...body }, ADMIN_KEY);
  if (r.status !== 201) throw new Error(`create stream: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function viewerToken(srv: TestServer, ingestKey: string, viewerId: string): Promise<string> {
  const r = await srv.api('POST', '/v1/viewer-tokens', { viewerId }, ingestKey);
  if (r.status !== 200) throw new Error(`viewer token: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

const sockets = new Set<Socket>();

/** A real socket.io client for a namespace, not yet connected (attach handlers, then `connect()`). */
export function client(srv: TestServer, nsp: '/viewer' | '/host', auth: Record<string, unknown>, opts: Record<string, unknown> = {}): Socket {
  const s = ioClient(srv.url + nsp, { autoConnect: false, reconnection: false, transports: ['websocket'], auth, forceNew: true, ...opts });
  sockets.add(s);
  return s;
}

/** Connects and resolves once connected (rejects with the connect_error). */
export function connect(s: Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
    s.connect();
  });
}

/** A connected viewer; resolves after the server's `hello` (the visit is committed by then). */
export async function connectViewer(srv: TestServer, auth: Record<string, unknown>, opts: Record<string, unknown> = {}) {
  const s = client(srv, '/viewer', auth, opts);
  const hello = waitFor<any>(s, 'hello');
  await connect(s);
  return { socket: s, hello: await hello };
}

export function waitFor<T = any>(s: { once: (ev: string, fn: (...a: any[]) => void) => unknown }, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    s.once(event, (arg: T) => {
      clearTimeout(t);
      resolve(arg);
    });
  });
}

/** Collects every payload of `event` (acks offers with { ok: true }). */
export function collect<T = any>(s: Socket, event: string): T[] {
  const out: T[] = [];
  s.on(event, (payload: T, ack?: (r: unknown) => void) => {
    out.push(payload);
    if (typeof ack === 'function') ack({ ok: true });
  });
  return out;
}

/** Polls `pred` until it holds; `what` names it in the timeout's error (a function: built at the timeout, e.g. with the output so far). */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await pred())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function closeAllClients() {
  for (const s of sockets) s.close();
  sockets.clear();
}

let seq = 0;
export const eid = (p = 'e') => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

/** A controllable clock for the engine (sockets and timers still run in real time). */
export function manualClock(start = Date.now()) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, { advance: (ms: number) => (now += ms), set: (t: number) => (now = t) });
}
