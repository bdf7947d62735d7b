/**
 * The OpenAPI document (`GET /openapi.json`, server/openapi.ts) against the real server:
 *
 * - complete: every route the router holds is in the document, or left out on purpose
 *   (UNDOCUMENTED, the interactive docs under DOCS_PREFIX, HEAD twins of GET routes), and every
 *   operation of the document is a route. The routes come from the router itself (find-my-way's
 *   `buildPrettyMeta`, called for each route by `printRoutes({ includeMeta })`), not from a list.
 * - no undocumented status: the server's LogController (a Fastify option) records the route
 *   pattern and status of every response of the whole run; each operation is exercised with the
 *   right and wrong keys, no key, bodies that are invalid JSON, too big, of another content type or
 *   naming a wrong field, unknown ids and bad parameters, then with a scripted happy path (2xx,
 *   409, 410…); every status seen must be among the operation's documented responses. A second
 *   server with a REST limit of 2 per minute checks 429: documented exactly where it happens.
 * - well-formed OpenAPI 3.1: structure (paths and their parameters, operations, responses,
 *   security schemes, $refs) and every example valid against its schema (Ajv, JSON Schema 2020-12).
 * - served: `/docs` (swagger-ui, with its own strict CSP) and its copy of the document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import WebSocket from 'ws';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  ADMIN_KEY, closeAllClients, collect, connectViewer, createStream, eid, manualClock, startServer, until, viewerToken,
  type StreamKeys, type TestServer,
} from '../helpers/server.js';
import { DOCS_PREFIX, OPENAPI_PATH, UNDOCUMENTED } from '../../server/openapi.js';

type Json = Record<string, any>;

/** ajv-formats is CommonJS: its function is the default export or that export's `default` */
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

interface Seen {
  method: string;
  route: string | undefined;
  status: number;
}

/** every response the server finishes: its method, route pattern (undefined: no route matched) and status */
class Recorder extends LogController {
  readonly seen: Seen[] = [];
  constructor() {
    super({ disableRequestLogging: false });
  }
  override requestCompleted(_err: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    this.seen.push({ method: request.method, route: request.routeOptions.url, status: reply.statusCode });
  }
}

/** a server whose responses and routes are recorded */
async function recordedServer(app: Record<string, unknown> = {}, clock?: ReturnType<typeof manualClock>) {
  const recorder = new Recorder();
  const routes = new Set<string>();
  const srv = await startServer({
    clock,
    app,
    fastify: {
      logController: recorder,
      routerOptions: {
        buildPrettyMeta: (route: { method: string; path: string }) => {
          routes.add(`${route.method} ${route.path}`);
          return {};
        },
      },
    },
  });
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) srv.app.printRoutes({ method, includeMeta: true });
  return { srv, recorder, routes };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Fastify's `/v1/streams/:id` as OpenAPI's `/v1/streams/{id}` */
const toOpenApi = (url: string) => url.replace(/:(\w+)/g, '{$1}');

let srv: TestServer;
let recorder: Recorder;
let routes: Set<string>;
let clock: ReturnType<typeof manualClock>;
let doc: Json;
/** the document's operations: `METHOD /path/{param}` → operation */
let ops: Map<string, Json>;
/** statuses seen from the client's side where the server logs no response (WebSocket upgrades that succeed) */
const clientSeen: Seen[] = [];
let A: StreamKeys; // the scripted happy path's stream
let V: StreamKeys; // the bad-request matrix's stream (its keys may be rotated by it)
let O: StreamKeys; // another stream, for keys of the wrong stream

beforeAll(async () => {
  clock = manualClock();
  // a REST limit far above this file's few thousand requests (429 has a server of its own, below)
  ({ srv, recorder, routes } = await recordedServer({ limits: { restPerMinute: 1_000_000 }, webhooks: { allowHttp: true } }, clock));
  const r = await fetch(srv.url + OPENAPI_PATH);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  doc = await r.json();
  ops = new Map();
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const m of METHODS) if (item[m]) ops.set(`${m.toUpperCase()} ${path}`, item[m]);
  }
  A = await createStream(srv, { title: 'Docs', channel: 'docs-a', id: 'docs-a' });
  V = await createStream(srv, { title: 'Docs matrix', channel: 'docs-v', id: 'docs-v' });
  O = await createStream(srv, { title: 'Other', channel: 'docs-o', id: 'docs-o' });
});

afterAll(async () => {
  closeAllClients();
  await srv?.close();
});

// ------------------------------------------------------------------------------ helpers

/** fills a path template: `{id}` → values[id] */
const fill = (path: string, values: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(values[p] ?? `no-such-${p}`));

async function send(method: string, path: string, opts: { key?: string; body?: string; type?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(srv.url + path, { method, headers, body: opts.body });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
}
const json = (v: unknown) => JSON.stringify(v);

/** a WebSocket upgrade to the feed; resolves with the status (101 when it opened) */
function feed(base: string, path: string, key?: string, seen = clientSeen): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + path, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    ws.on('open', () => {
      seen.push({ method: 'GET', route: '/v1/streams/:id/feed', status: 101 });
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      seen.push({ method: 'GET', route: '/v1/streams/:id/feed', status: res.statusCode! });
      res.resume();
      ws.terminate();
      resolve(res.statusCode!);
    });
    ws.on('error', reject);
  });
}

/** the operation a recorded response belongs to (undefined: a route left out of the document) */
const opOf = (s: Seen) => (s.route === undefined ? undefined : ops.get(`${s.method} ${toOpenApi(s.route)}`));

function undocumentedStatuses(seen: Seen[]): string[] {
  const bad = new Set<string>();
  for (const s of seen) {
    const op = opOf(s);
    if (op && !(String(s.status) in op.responses)) bad.add(`${s.method} ${s.route} answered ${s.status} (documented: ${Object.keys(op.responses).join(' ')})`);
  }
  return [...bad].sort();
}

// ------------------------------------------------------------------------------ the document

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and well formed', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(typeof doc.info.title).toBe('string');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(doc).filter((k) => !k.startsWith('x-')).sort()).toEqual(
      expect.arrayContaining(['components', 'info', 'openapi', 'paths']),
    );
    // the four bearer keys (and the feed's ?key=)
    const schemes: Json = doc.components.securitySchemes;
    for (const k of ['adminKey', 'hostKey', 'ingestKey', 'channelKey']) expect(schemes[k]).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [name, s] of Object.entries<Json>(schemes)) {
      expect(['http', 'apiKey', 'oauth2', 'openIdConnect', 'mutualTLS'], name).toContain(s.type);
      if (s.type === 'apiKey') expect(['query', 'header', 'cookie'], name).toContain(s.in);
    }
    const tags = new Set((doc.tags ?? []).map((t: Json) => t.name));
    const ids = new Set<string>();
    for (const [key, op] of ops) {
      const path = key.slice(key.indexOf(' ') + 1);
      expect(path.startsWith('/'), key).toBe(true);
      expect(typeof op.operationId, `${key}: operationId`).toBe('string');
      expect(ids.has(op.operationId), `${key}: unique operationId`).toBe(false);
      ids.add(op.operationId);
      expect(op.summary, `${key}: summary`).toBeTruthy();
      expect(op.tags?.length, `${key}: tags`).toBeGreaterThan(0);
      for (const t of op.tags) expect(tags.has(t), `${key}: tag ${t} is declared`).toBe(true);
      // security stated on every operation ([] when public), naming declared schemes
      expect(Array.isArray(op.security), `${key}: security`).toBe(true);
      for (const req of op.security) for (const name of Object.keys(req)) expect(schemes[name], `${key}: scheme ${name}`).toBeTruthy();
      // path templating: every {param} has its path parameter, and nothing else is a path parameter
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const inPath = (op.parameters ?? []).filter((p: Json) => p.in === 'path');
      expect(inPath.map((p: Json) => p.name).sort(), `${key}: path parameters`).toEqual(templated);
      for (const p of inPath) expect(p.required, `${key}: ${p.name} required`).toBe(true);
      for (const p of op.parameters ?? []) expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
      // responses: HTTP codes, each described (no generated "Default Response"), bodies by media type
      const codes = Object.keys(op.responses);
      expect(codes.length, key).toBeGreaterThan(0);
      for (const code of codes) {
        expect(code, key).toMatch(/^[1-5]\d\d$/);
        const resp = op.responses[code];
        expect(resp.description, `${key} ${code}`).toBeTruthy();
        expect(resp.description, `${key} ${code}`).not.toBe('Default Response');
        for (const [media, m] of Object.entries<Json>(resp.content ?? {})) {
          expect(media, `${key} ${code}`).toMatch(/^[\w.+-]+\/[\w.+-]+$/);
          expect(m.schema, `${key} ${code} ${media}`).toBeTruthy();
        }
        // every error is the one error shape
        if (Number(code) >= 400 && resp.content?.['application/json']) {
          const s = resp.content['application/json'].schema;
          if (!(key === 'GET /healthz' || key === 'GET /readyz')) expect(s, `${key} ${code}: the error shape`).toEqual({ $ref: '#/components/schemas/Error' });
        }
      }
      for (const code of ['429', '503']) {
        if (op.responses[code]) expect(op.responses[code].headers?.['retry-after'], `${key} ${code}: Retry-After`).toBeTruthy();
      }
    }
    expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['statusCode', 'error', 'message'] });
    // OpenAPI 3.0's `nullable` has no place in 3.1; every $ref resolves
    const refs: string[] = [];
    (function walk(o: unknown, at: string) {
      if (Array.isArray(o)) o.forEach((v, i) => walk(v, `${at}/${i}`));
      else if (o && typeof o === 'object') {
        for (const [k, v] of Object.entries(o)) {
          expect(k === 'nullable' && typeof v === 'boolean', `${at}: nullable`).toBe(false);
          if (k === '$ref') refs.push(v as string);
          else walk(v, `${at}/${k}`);
        }
      }
    })(doc, '#');
    for (const ref of refs) {
      expect(ref, 'local $ref').toMatch(/^#\//);
      const target = ref.slice(2).split('/').reduce((o: any, p) => o?.[p.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
      expect(target, `${ref} resolves`).toBeTruthy();
    }
  });

  it('has examples that are valid against their schemas', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    let checked = 0;
    const check = (where: string, schema: Json, value: unknown) => {
      const validate = ajv.compile({ ...schema, components: doc.components });
      expect(validate(value), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked++;
    };
    for (const [key, op] of ops) {
      const media: [string, Json][] = [
        ...Object.entries<Json>(op.requestBody?.content ?? {}).map(([t, m]) => [`${key} body ${t}`, m] as [string, Json]),
        ...Object.entries<Json>(op.responses).flatMap(([code, r]) => Object.entries<Json>(r.content ?? {}).map(([t, m]) => [`${key} ${code} ${t}`, m] as [string, Json])),
      ];
      for (const [where, m] of media) {
        if (m.example !== undefined) check(where, m.schema, m.example);
        for (const [name, ex] of Object.entries<Json>(m.examples ?? {})) check(`${where} ${name}`, m.schema, ex.value);
        for (const ex of m.schema.examples ?? []) check(`${where} (schema)`, m.schema, ex);
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('holds every route the server has, and nothing else', () => {
    const missing: string[] = [];
    for (const r of routes) {
      const [method, url] = [r.slice(0, r.indexOf(' ')), r.slice(r.indexOf(' ') + 1)];
      if (method === 'HEAD') continue; // Fastify's twin of each GET route (exposeHeadRoutes), the same operation
      if (r in UNDOCUMENTED || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`)) continue;
      if (!ops.has(`${method} ${toOpenApi(url)}`)) missing.push(r);
    }
    expect(missing, 'routes missing from the OpenAPI document (document them, or add them to UNDOCUMENTED with a reason)').toEqual([]);
    const stale = Object.keys(UNDOCUMENTED).filter((r) => !routes.has(r));
    expect(stale, 'UNDOCUMENTED names routes the server does not have').toEqual([]);
    const known = new Set([...routes].map((r) => toOpenApi(r)));
    const phantom = [...ops.keys()].filter((k) => !known.has(k));
    expect(phantom, 'operations of the document that are no route').toEqual([]);
    // the interactive documentation is there, and left out of the document
    expect([...routes].some((r) => r.startsWith(`GET ${DOCS_PREFIX}`))).toBe(true);
    expect(Object.keys(doc.paths).some((p) => p.startsWith(DOCS_PREFIX))).toBe(false);
  });
});

// ------------------------------------------------------------------------------ the statuses

describe('every status the server answers is documented', () => {
  it('for keys, bodies, parameters and ids that are wrong', async () => {
    // V's channel's read-only key: refused everywhere but that channel's overview
    const channelKey = (await send('POST', `/v1/channels/${V.channel}/keys/rotate`, { key: ADMIN_KEY })).body.channelKey as string;
    const keys: (string | undefined)[] = [undefined, 'lt_host_not-a-key', ADMIN_KEY, V.hostKey, V.ingestKey, O.hostKey, channelKey];
    const bodies: ({ body?: string; type?: string })[] = [
      {},
      { body: '{}' },
      { body: json({ bogus: 1 }) },
      { body: '{"not json' },
      { body: json({ pad: 'x'.repeat(70 * 1024) }) },
      { body: '<xml/>', type: 'application/xml' },
    ];
    const known = { id: V.id, channel: V.channel, viewerId: 'vera', cid: 'default:vip', code: 'NOSUCHCODE' };
    const inKnownStream = { id: V.id, channel: V.channel }; // the rest unknown there
    const unknown = {};
    const bad = { id: 'bad id!', channel: 'bad channel!', viewerId: 'bad viewer!', cid: 'bad cid!', code: 'x'.repeat(80) };
    // rotations last: they change V's keys and the channel's secret
    const order = [...ops.keys()].filter((k) => k !== `GET ${OPENAPI_PATH}`).sort((a, b) => Number(/rotate/.test(a)) - Number(/rotate/.test(b)));
    for (const key of order) {
      const [method, path] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
      const query = path.startsWith('/v1/viewers/') ? `?channel=${V.channel}` : '';
      // the operation's own example body, valid: the key decides. Never with the operation's own
      // key (nor on a public route): what the example would create or send stays undone
      const op = ops.get(key)!;
      const example = op.requestBody?.content?.['application/json']?.example;
      const ownKeys = new Set(op.security.flatMap((r: Json) => Object.keys(r)).map((s: string) => ({ adminKey: ADMIN_KEY, hostKey: V.hostKey, ingestKey: V.ingestKey })[s]));
      const withExample = (k: string | undefined) => (example === undefined || !op.security.length || ownKeys.has(k) ? bodies : [...bodies, { body: json(example) }]);
      for (const values of [known, inKnownStream, unknown, bad]) {
        const url = fill(path, values) + query;
        if (path.endsWith('/feed')) {
          for (const k of keys) await feed(srv.url, url, k);
          const plain = await send('GET', url, { key: V.hostKey });
          expect([401, 403, 404], `plain GET ${url}`).toContain(plain.status);
          continue;
        }
        for (const k of keys) {
          for (const b of method === 'GET' ? [{}] : withExample(k)) await send(method, url, { key: k, ...b });
        }
      }
      // a bad query parameter, and a required one left out
      if (method === 'GET' || method === 'DELETE') {
        await send(method, fill(path, known) + '?tier=bogus&limit=x&cursor=zz', { key: V.hostKey });
        await send(method, fill(path, known) + '?sort=value&cursor=' + 'A'.repeat(40), { key: V.hostKey });
        await send(method, fill(path, known), { key: ADMIN_KEY });
      }
    }
    // no key at all is 401 wherever a key is documented (a GET reaches the guard: no body to refuse first)
    for (const [key, op] of ops) {
      if (!key.startsWith('GET ') || !op.security.length || key.endsWith('/feed')) continue;
      const path = key.slice(4);
      const r = await send('GET', fill(path, { id: A.id, channel: A.channel, viewerId: 'vera', cid: 'default:vip' }) + `?channel=${A.channel}`);
      expect(r.status, `${key} without a key`).toBe(401);
    }
    expect(undocumentedStatuses([...recorder.seen, ...clientSeen])).toEqual([]);
  });

  it('for a scripted tour of the API: successes, conflicts, gone', async () => {
    const api = (method: string, path: string, body?: unknown, key?: string, headers?: Record<string, string>) =>
      send(method, path, { key, headers, ...(body === undefined ? {} : { body: json(body) }) });
    const s = A;
    // streams
    expect((await api('POST', '/v1/streams', { title: 'again', id: s.id }, ADMIN_KEY)).status).toBe(409);
    expect((await api('GET', `/v1/streams/${s.id}/summary`, undefined, s.hostKey)).status).toBe(200);
    // merchant: tokens, purchases, refunds
    const token = await viewerToken(srv, s.ingestKey, 'vera');
    expect((await api('POST', '/v1/viewer-tokens', { viewerId: 'walt', ttlSeconds: 3600 }, s.ingestKey)).status).toBe(200);
    const order = { orderId: 'o-1', viewerId: 'vera', amount: 50000, currency: 'CNY' };
    expect((await api('POST', '/v1/purchases', order, s.ingestKey)).status).toBe(201);
    expect((await api('POST', '/v1/purchases', order, s.ingestKey)).status).toBe(200);
    expect((await api('POST', '/v1/purchases', { ...order, amount: 1 }, s.ingestKey)).status).toBe(409);
    expect((await api('POST', '/v1/purchases', { ...order, orderId: 'o-f', at: Date.now() + 86_400_000 }, s.ingestKey)).status).toBe(400);
    expect((await api('POST', '/v1/purchases', { orderId: 'o-w', viewerId: 'walt', amount: 900, currency: 'CNY' }, s.ingestKey)).status).toBe(201);
    const batch = await api('POST', '/v1/purchases/batch', { orders: [{ orderId: 'o-h1', viewerId: 'walt', amount: 900, currency: 'CNY', at: '2025-01-01T10:00:00Z' }, { orderId: 'o-h2' }] }, s.ingestKey);
    expect(batch.status).toBe(200);
    expect((await api('POST', '/v1/refunds', { orderId: 'o-1', amount: 20000 }, s.ingestKey)).status).toBe(200);
    expect((await api('POST', '/v1/refunds', { orderId: 'o-1', amount: 10000 }, s.ingestKey)).status).toBe(409);
    expect((await api('POST', '/v1/refunds', { orderId: 'o-1', amount: 90000 }, s.ingestKey)).status).toBe(400);
    expect((await api('POST', '/v1/refunds', { orderId: 'o-none' }, s.ingestKey)).status).toBe(404);
    // campaigns: a manual one sent to a connected viewer, who gets codes to redeem
    const { socket } = await connectViewer(srv, { streamId: s.id, viewerId: 'vera', token });
    const offers = collect(socket, 'offer');
    const campaign = {
      name: 'Docs tour', trigger: { type: 'manual' }, audience: { tiers: ['high', 'mid', 'potential'] },
      offer: { title: '5 off', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 }, limits: { perViewer: 5 }, holdoutPercent: 0,
    };
    const created = await api('POST', `/v1/streams/${s.id}/campaigns`, campaign, s.hostKey);
    expect(created.status, json(created.body)).toBe(201);
    const cid = created.body.id;
    expect((await api('POST', `/v1/streams/${s.id}/campaigns`, { ...campaign, trigger: { type: 'tier_entered' } }, s.hostKey)).status).toBe(400);
    const list = await api('GET', `/v1/streams/${s.id}/campaigns`, undefined, s.hostKey);
    expect(list.status).toBe(200);
    expect((await api('GET', `/v1/streams/${s.id}/campaigns/${cid}`, undefined, s.hostKey)).status).toBe(200);
    clock.advance(180_000); // past the frequency cap (one offer per 2 minutes): vera's purchases may have fired a default campaign
    expect((await api('POST', `/v1/streams/${s.id}/campaigns/${cid}/send`, undefined, s.hostKey)).body.sent).toBe(1);
    const triggered = list.body.campaigns.find((c: Json) => c.trigger.type !== 'manual');
    expect((await api('POST', `/v1/streams/${s.id}/campaigns/${triggered.id}/send`, undefined, s.hostKey)).status).toBe(409);
    expect((await api('PATCH', `/v1/streams/${s.id}/campaigns/${cid}`, { status: 'paused' }, s.hostKey)).status).toBe(200);
    expect((await api('POST', `/v1/streams/${s.id}/campaigns/${cid}/send`, undefined, s.hostKey)).status).toBe(409);
    expect((await api('PATCH', `/v1/streams/${s.id}/campaigns/${cid}`, { status: 'active' }, s.hostKey)).status).toBe(200);
    clock.advance(180_000);
    expect((await api('POST', `/v1/streams/${s.id}/campaigns/${cid}/send`, undefined, s.hostKey)).body.sent).toBe(1);
    await until(() => offers.length >= 2, 5000, 'two offers');
    const [first, second] = offers;
    expect((await api('POST', `/v1/coupons/${first.code}/redeem`, { orderId: 'o-1', viewerId: 'vera' }, s.ingestKey)).status).toBe(200);
    expect((await api('POST', `/v1/coupons/${first.code}/redeem`, { orderId: 'o-1', viewerId: 'vera' }, s.ingestKey)).status).toBe(200);
    expect((await api('POST', `/v1/coupons/${first.code}/redeem`, { orderId: 'o-2', viewerId: 'vera' }, s.ingestKey)).status).toBe(409);
    expect((await api('POST', `/v1/coupons/${second.code}/redeem`, { orderId: 'o-3', viewerId: 'walt' }, s.ingestKey)).status).toBe(403);
    clock.advance(3_600_000);
    expect((await api('POST', `/v1/coupons/${second.code}/redeem`, { orderId: 'o-3', viewerId: 'vera' }, s.ingestKey)).status).toBe(410);
    // the audience, reports
    const page = await api('GET', `/v1/streams/${s.id}/viewers?limit=1&sort=value`, undefined, s.hostKey);
    expect(page.status).toBe(200);
    expect((await api('GET', `/v1/streams/${s.id}/viewers?limit=1&sort=recent&cursor=${page.body.nextCursor ?? 'x'}`, undefined, s.hostKey)).status).toBe(400);
    expect((await api('GET', `/v1/streams/${s.id}/viewers/vera`, undefined, s.hostKey)).status).toBe(200);
    expect((await api('GET', `/v1/streams/${s.id}/viewers/nobody`, undefined, s.hostKey)).status).toBe(404);
    expect((await api('GET', `/v1/streams/${s.id}/report`, undefined, s.hostKey)).status).toBe(200);
    const csv = await send('GET', `/v1/streams/${s.id}/viewers.csv`, { key: s.hostKey });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await feed(srv.url, `/v1/streams/${s.id}/feed`, s.hostKey)).toBe(101);
    expect(await feed(srv.url, `/v1/streams/${s.id}/feed?key=${encodeURIComponent(s.hostKey)}`)).toBe(101);
    expect(await feed(srv.url, `/v1/streams/${s.id}/feed`, O.hostKey)).toBe(403);
    // the beacon
    const ev = [{ id: eid(), type: 'like', ts: Date.now() }];
    expect((await api('POST', '/v1/collect', { streamId: s.id, viewerId: 'vera', token, events: ev })).status).toBe(200);
    expect((await send('POST', '/v1/collect', { body: json({ streamId: s.id, viewerId: 'vera', events: ev }), type: 'text/plain' })).status).toBe(200);
    expect((await api('POST', '/v1/collect', { streamId: s.id, viewerId: 'vera', token: 'x.y.z', events: ev })).status).toBe(401);
    expect((await api('POST', '/v1/collect', { streamId: 'no-such-stream', viewerId: 'vera', events: ev })).status).toBe(404);
    const walled = await createStream(srv, { title: 'Walled', channel: 'docs-w', allowedOrigins: ['https://shop.example'] });
    expect((await api('POST', '/v1/collect', { streamId: walled.id, viewerId: 'vera', events: ev }, undefined, { origin: 'https://elsewhere.example' })).status).toBe(403);
    // channels, viewers' data
    expect((await api('GET', `/v1/channels/${s.channel}/tier-rules`, undefined, ADMIN_KEY)).status).toBe(200);
    const rules = await api('PUT', `/v1/channels/${s.channel}/tier-rules`, { mode: 'absolute' }, ADMIN_KEY);
    expect(rules.status).toBe(200);
    expect((await api('PUT', `/v1/channels/${s.channel}/tier-rules`, { ...rules.body, absolute: { high: { minOrders: 1, minSpend: 0, windowDays: 30 }, mid: { minOrders: 2, windowDays: 30 } } }, ADMIN_KEY)).status).toBe(400);
    expect((await api('GET', `/v1/viewers/vera/export?channel=${s.channel}`, undefined, ADMIN_KEY)).status).toBe(200);
    expect((await api('DELETE', `/v1/viewers/walt?channel=${s.channel}`, undefined, ADMIN_KEY)).status).toBe(200);
    // webhooks (a loopback target nothing listens on: no traffic leaves the machine), the end of a stream
    const hook = await api('POST', `/v1/channels/${s.channel}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: ['stream.ended'] }, ADMIN_KEY);
    expect(hook.status).toBe(201);
    expect((await api('POST', `/v1/channels/${s.channel}/webhooks`, { url: 'http://10.0.0.5/hook', events: ['stream.ended'] }, ADMIN_KEY)).status).toBe(400);
    expect((await api('GET', `/v1/channels/${s.channel}/webhooks`, undefined, ADMIN_KEY)).status).toBe(200);
    expect((await api('PATCH', `/v1/channels/${s.channel}/webhooks/${hook.body.id}`, { description: 'the tour' }, ADMIN_KEY)).status).toBe(200);
    expect((await api('PATCH', `/v1/channels/${s.channel}/webhooks/${hook.body.id}`, { url: 'http://192.168.0.9/x' }, ADMIN_KEY)).status).toBe(400);
    expect((await api('POST', `/v1/channels/${s.channel}/webhooks/${hook.body.id}/test`, undefined, ADMIN_KEY)).status).toBe(202);
    expect((await api('GET', `/v1/channels/${s.channel}/webhooks/${hook.body.id}/deliveries?limit=10`, undefined, ADMIN_KEY)).status).toBe(200);
    expect((await api('GET', `/v1/channels/${s.channel}/webhooks/${hook.body.id}/deliveries?limit=9999`, undefined, ADMIN_KEY)).status).toBe(400);
    const other = await createStream(srv, { title: 'Ends', channel: s.channel });
    expect((await api('POST', `/v1/streams/${other.id}/end`, undefined, other.hostKey)).status).toBe(200);
    expect((await api('DELETE', `/v1/channels/${s.channel}/webhooks/${hook.body.id}`, undefined, ADMIN_KEY)).status).toBe(204);
    // operations, the document
    for (const p of ['/healthz', '/readyz']) if (ops.has(`GET ${p}`)) expect((await api('GET', p)).status).toBe(200);
    if (ops.has('GET /metrics')) expect((await api('GET', '/metrics', undefined, ADMIN_KEY)).status).toBe(200);
    expect((await api('GET', OPENAPI_PATH)).status).toBe(200);
    // the channel overview, with the admin key and the channel's read-only key
    expect((await api('GET', `/v1/channels/${s.channel}/overview?limit=5`, undefined, ADMIN_KEY)).status).toBe(200);
    expect((await api('GET', `/v1/channels/${s.channel}/overview?limit=500`, undefined, ADMIN_KEY)).status).toBe(400);
    expect((await api('GET', '/v1/channels/no-such-channel/overview', undefined, ADMIN_KEY)).status).toBe(404);
    const channelKey = await api('POST', `/v1/channels/${s.channel}/keys/rotate`, { graceSeconds: 60 }, ADMIN_KEY);
    expect(channelKey.status).toBe(200);
    expect((await api('GET', `/v1/channels/${s.channel}/overview`, undefined, channelKey.body.channelKey)).status).toBe(200);
    expect((await api('GET', `/v1/channels/${O.channel}/overview`, undefined, channelKey.body.channelKey)).status).toBe(403);
    expect((await api('POST', '/v1/channels/no-such-channel/keys/rotate', {}, ADMIN_KEY)).status).toBe(404);
    // keys last: rotating them ends this stream's tour
    expect((await api('POST', `/v1/channels/${s.channel}/token-secret/rotate`, { graceSeconds: 60 }, ADMIN_KEY)).status).toBe(200);
    expect((await api('POST', `/v1/streams/${s.id}/keys/rotate`, undefined, ADMIN_KEY)).status).toBe(200);
    socket.close();

    expect(undocumentedStatuses([...recorder.seen, ...clientSeen])).toEqual([]);
  });

  it('exercised every operation of the document, and recorded what it answered', () => {
    const all = [...recorder.seen, ...clientSeen];
    const untouched = [...ops.keys()].filter((k) => !all.some((s) => opOf(s) === ops.get(k)));
    expect(untouched, 'operations no request reached').toEqual([]);
    // every documented operation answered at least one success and one error
    for (const [k, op] of ops) {
      const statuses = new Set(all.filter((s) => opOf(s) === op).map((s) => s.status));
      expect([...statuses].some((c) => c < 400), `${k}: a success`).toBe(true);
      if (op.security.length) expect([...statuses].some((c) => c >= 400), `${k}: an error`).toBe(true);
    }
  });

  it('429 exactly where the REST limit applies', async () => {
    const limited = await recordedServer({ limits: { restPerMinute: 2 } });
    const seen: Seen[] = [];
    try {
      for (let i = 0; i < 3; i++) await (await fetch(`${limited.srv.url}/healthz`)).arrayBuffer();
      for (const key of ops.keys()) {
        const [method, path] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
        const url = limited.srv.url + fill(path, {});
        if (path.endsWith('/feed')) await feed(limited.srv.url, fill(path, {}), undefined, seen);
        else await (await fetch(url, { method, ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }) })).arrayBuffer();
      }
    } finally {
      await limited.srv.close();
    }
    const all = [...limited.recorder.seen, ...seen];
    expect(undocumentedStatuses(all)).toEqual([]);
    for (const [key, op] of ops) {
      const got429 = all.some((s) => opOf(s) === op && s.status === 429);
      expect(got429, `${key}: 429 ${'429' in op.responses ? 'documented but not answered' : 'answered but not documented'}`).toBe('429' in op.responses);
    }
  });
});

describe('the interactive documentation', () => {
  it('serves swagger-ui at /docs under a strict CSP of its own, on the same document', async () => {
    const page = await fetch(`${srv.url}${DOCS_PREFIX}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const html = await page.text();
    expect(html).not.toMatch(/<script>(?!\s*<\/script>)/); // no inline script: every script has a src
    for (const src of [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1])) {
      const asset = await fetch(`${srv.url}${DOCS_PREFIX}/${src}`);
      await asset.arrayBuffer(); // read, so the connection is free when the server closes
      expect(asset.status, src).toBe(200);
    }
    expect(await (await fetch(`${srv.url}${DOCS_PREFIX}/json`)).json()).toEqual(doc);
    // the rest of the server sends no CSP of its own (the widget runs inside merchants' pages)
    const health = await fetch(`${srv.url}/healthz`);
    await health.arrayBuffer();
    expect(health.headers.get('content-security-policy')).toBeNull();
  });
});
