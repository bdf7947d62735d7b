/**
 * Integration helpers: a real LiveTier server on an ephemeral port with a temporary SQLite file,
 * real socket.io clients, and fetch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { io as ioClient, type Socket } from 'socket.io-client';
import livetier, { fastifyOptions, type AppOptions } from '../../server/app.js';
import { httpApi, type Api } from './http.js';
import type { Clock } from '../../server/engine.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface TestServer {
  url: string;
  dbFile: string;
  dir: string;
  app: Awaited<ReturnType<typeof build>>;
  api: Api;
  stop: () => Promise<void>;
  close: () => Promise<void>;
}

async function build(dbFile: string, clock?: Clock, extra: Partial<AppOptions> = {}, fastify: Record<string, unknown> = {}) {
  const app = Fastify({ ...fastifyOptions(process.env.TEST_LOG_LEVEL ?? 'silent', extra.trustProxy), ...fastify });
  await app.register(livetier, { db: dbFile, adminKey: ADMIN_KEY, clock, ...extra });
  return app;
}

/** Starts a server; `dbFile` reuses an existing database (restart tests). `stop` keeps the files, `close` removes them. */
/** `app`: more AppOptions (limits, retention: issue 8); `fastify`: Fastify options over the defaults (a logger stream). */
export async function startServer(
  opts: { clock?: Clock; dbFile?: string; port?: number; app?: Partial<AppOptions>; fastify?: Record<string, unknown> } = {},
): Promise<TestServer> {
  const dir = opts.dbFile ? path.dirname(opts.dbFile) : mkdtempSync(path.join(tmpdir(), 'livetier-test-'));
  const dbFile = opts.dbFile ?? path.join(dir, 'livetier.db');
  const app = await build(dbFile, opts.clock, opts.app, opts.fastify);
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const api = httpApi(url);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
  };
  return { url, dbFile, dir, app, api, stop, close: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); } };
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

export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await pred())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
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
