/**
 * The access matrix: every REST endpoint, the raw feed and both socket.io namespaces, against
 * every kind of credential: none, admin, this stream's host and ingest keys, another stream's
 * keys (same channel), another channel's keys, this channel's and another channel's read-only
 * keys, an expired viewer token, a tampered token and a tampered key. Each gets exactly the answer it should. A route nobody put in the matrix fails
 * the test, so new endpoints cannot skip it. Key rotation with a grace period is here too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';
import livetier, { fastifyOptions } from '../../server/app.js';
import { signViewerToken } from '../../server/auth/tokens.js';
import { ADMIN_KEY, testDatabase, until, type StreamKeys, type TestDatabase } from '../helpers/server.js';
import { httpApi } from '../helpers/http.js';
import { withSql } from '../helpers/sql.js';

type Need = 'admin' | 'host' | 'ingest' | 'channel';
type Cred =
  | 'none' | 'admin' | 'host' | 'ingest' | 'otherStreamHost' | 'otherStreamIngest' | 'otherChannelHost' | 'otherChannelIngest'
  | 'channelKey' | 'otherChannelKey' | 'expiredToken' | 'tamperedToken' | 'tamperedKey';
const CREDS: Cred[] = [
  'none', 'admin', 'host', 'ingest', 'otherStreamHost', 'otherStreamIngest', 'otherChannelHost', 'otherChannelIngest', 'channelKey', 'otherChannelKey',
  'expiredToken', 'tamperedToken', 'tamperedKey',
];

let app: ReturnType<typeof Fastify>;
let url: string;
let database: TestDatabase;
const routes: { method: string; url: string }[] = [];
let A: StreamKeys; // the stream under test
let B: StreamKeys; // another stream of A's channel
let C: StreamKeys; // a stream of another channel
let key: Record<Cred, string | undefined>;
let validToken: string;
let otherChannelToken: string;

const api = httpApi(() => url);

async function stream(body: Record<string, unknown>): Promise<StreamKeys> {
  const r = await api('POST', '/v1/streams', { title: 'Access', ...body }, ADMIN_KEY);
  expect(r.status).toBe(201);
  return r.body;
}

beforeAll(async () => {
  // its own app rather than startServer(): the onRoute hook must be there before the routes are
  database = await testDatabase({ prefix: 'livetier-access-' });
  app = Fastify(fastifyOptions('silent'));
  app.addHook('onRoute', (r: { method: string | string[]; url: string }) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
  });
  await app.register(livetier, { db: database.db, adminKey: ADMIN_KEY });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  A = await stream({ channel: 'shop-a' });
  B = await stream({ channel: 'shop-a' });
  C = await stream({ channel: 'shop-c' });
  validToken = (await api('POST', '/v1/viewer-tokens', { viewerId: 'vera' }, A.ingestKey)).body.token;
  otherChannelToken = (await api('POST', '/v1/viewer-tokens', { viewerId: 'vera' }, C.ingestKey)).body.token;
  const channelKeys = await Promise.all(['shop-a', 'shop-c'].map(async (c) => (await api('POST', `/v1/channels/${c}/keys/rotate`, {}, ADMIN_KEY)).body.channelKey as string));
  const secret = (await app.store.getChannelSecret('shop-a'))!;
  const [h, payload, sig] = validToken.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'someone-else' })).toString('base64url');
  key = {
    none: undefined,
    admin: ADMIN_KEY,
    host: A.hostKey,
    ingest: A.ingestKey,
    otherStreamHost: B.hostKey,
    otherStreamIngest: B.ingestKey,
    otherChannelHost: C.hostKey,
    otherChannelIngest: C.ingestKey,
    channelKey: channelKeys[0],
    otherChannelKey: channelKeys[1],
    expiredToken: signViewerToken(secret, 'shop-a', 'vera', Date.now() - 2 * 86400_000, 60),
    tamperedToken: `${h}.${forged}.${sig}`,
    tamperedKey: A.hostKey.slice(0, -1) + (A.hostKey.endsWith('A') ? 'B' : 'A'),
  };
});

afterAll(async () => {
  await app?.close();
  await database?.remove();
});

let seq = 0;
/** Every endpoint with a body valid for it: what may vary is only the credential. */
const ENDPOINTS: { method: string; route: string; need: Need; path: () => string; body?: () => unknown }[] = [
  { method: 'POST', route: '/v1/streams', need: 'admin', path: () => '/v1/streams', body: () => ({ title: 'made', id: `m-${seq++}` }) },
  { method: 'POST', route: '/v1/streams/:id/keys/rotate', need: 'admin', path: () => `/v1/streams/${A.id}/keys/rotate`, body: () => ({ graceSeconds: 86400 }) },
  { method: 'GET', route: '/v1/channels/:channel/tier-rules', need: 'admin', path: () => '/v1/channels/shop-a/tier-rules' },
  { method: 'PUT', route: '/v1/channels/:channel/tier-rules', need: 'admin', path: () => '/v1/channels/shop-a/tier-rules', body: () => ({ mode: 'absolute' }) },
  // an unknown channel: the admin's call is a 404 (rotating shop-a would end the tokens the later tests sign)
  { method: 'POST', route: '/v1/channels/:channel/token-secret/rotate', need: 'admin', path: () => '/v1/channels/no-such-channel/token-secret/rotate', body: () => ({ graceSeconds: 60 }) },
  // an unknown channel again: rotating shop-a's read-only key would end the one this matrix holds
  { method: 'POST', route: '/v1/channels/:channel/keys/rotate', need: 'admin', path: () => '/v1/channels/no-such-channel/keys/rotate', body: () => ({ graceSeconds: 60 }) },
  { method: 'GET', route: '/v1/channels/:channel/overview', need: 'channel', path: () => '/v1/channels/shop-a/overview' },
  // webhooks: a refused target (no traffic leaves the machine) and unknown endpoints, so nothing is sent
  { method: 'POST', route: '/v1/channels/:channel/webhooks', need: 'admin', path: () => '/v1/channels/shop-a/webhooks', body: () => ({ url: 'https://10.0.0.5/hook', events: ['purchase.recorded'] }) },
  { method: 'GET', route: '/v1/channels/:channel/webhooks', need: 'admin', path: () => '/v1/channels/shop-a/webhooks' },
  { method: 'PATCH', route: '/v1/channels/:channel/webhooks/:id', need: 'admin', path: () => '/v1/channels/shop-a/webhooks/wh_none', body: () => ({ enabled: false }) },
  { method: 'DELETE', route: '/v1/channels/:channel/webhooks/:id', need: 'admin', path: () => '/v1/channels/shop-a/webhooks/wh_none' },
  { method: 'POST', route: '/v1/channels/:channel/webhooks/:id/test', need: 'admin', path: () => '/v1/channels/shop-a/webhooks/wh_none/test' },
  { method: 'GET', route: '/v1/channels/:channel/webhooks/:id/deliveries', need: 'admin', path: () => '/v1/channels/shop-a/webhooks/wh_none/deliveries' },
  { method: 'GET', route: '/v1/viewers/:viewerId/export', need: 'admin', path: () => '/v1/viewers/vera/export?channel=shop-a' },
  { method: 'DELETE', route: '/v1/viewers/:viewerId', need: 'admin', path: () => '/v1/viewers/nobody-here?channel=shop-a' },
  { method: 'GET', route: '/metrics', need: 'admin', path: () => '/metrics' }, // the Prometheus scrape (server/metrics.ts)
  { method: 'GET', route: '/v1/streams/:id/summary', need: 'host', path: () => `/v1/streams/${A.id}/summary` },
  { method: 'GET', route: '/v1/streams/:id/viewers', need: 'host', path: () => `/v1/streams/${A.id}/viewers` },
  { method: 'GET', route: '/v1/streams/:id/viewers/:viewerId', need: 'host', path: () => `/v1/streams/${A.id}/viewers/vera` },
  { method: 'GET', route: '/v1/streams/:id/viewers.csv', need: 'host', path: () => `/v1/streams/${A.id}/viewers.csv` },
  { method: 'GET', route: '/v1/streams/:id/kpis.csv', need: 'host', path: () => `/v1/streams/${A.id}/kpis.csv` },
  { method: 'GET', route: '/v1/streams/:id/report', need: 'host', path: () => `/v1/streams/${A.id}/report` },
  // ending a stream changes nothing the later rows need (late events and purchases still count)
  { method: 'POST', route: '/v1/streams/:id/end', need: 'host', path: () => `/v1/streams/${A.id}/end` },
  { method: 'GET', route: '/v1/streams/:id/campaigns', need: 'host', path: () => `/v1/streams/${A.id}/campaigns` },
  { method: 'GET', route: '/v1/streams/:id/pushes', need: 'host', path: () => `/v1/streams/${A.id}/pushes` },
  { method: 'GET', route: '/v1/streams/:id/model', need: 'host', path: () => `/v1/streams/${A.id}/model` },
  { method: 'GET', route: '/v1/streams/:id/cross-sell', need: 'host', path: () => `/v1/streams/${A.id}/cross-sell` },
  { method: 'GET', route: '/v1/streams/:id/segments', need: 'host', path: () => `/v1/streams/${A.id}/segments` },
  { method: 'POST', route: '/v1/streams/:id/model/refit', need: 'host', path: () => `/v1/streams/${A.id}/model/refit` },
  {
    method: 'POST', route: '/v1/streams/:id/campaigns', need: 'host', path: () => `/v1/streams/${A.id}/campaigns`,
    body: () => ({ name: 'Flash', trigger: { type: 'manual' }, offer: { title: 'Flash', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 600 } }),
  },
  { method: 'GET', route: '/v1/streams/:id/campaigns/:cid', need: 'host', path: () => `/v1/streams/${A.id}/campaigns/default:deal` },
  { method: 'PATCH', route: '/v1/streams/:id/campaigns/:cid', need: 'host', path: () => `/v1/streams/${A.id}/campaigns/default:deal`, body: () => ({ holdoutPercent: 0 }) },
  { method: 'POST', route: '/v1/streams/:id/campaigns/:cid/send', need: 'host', path: () => `/v1/streams/${A.id}/campaigns/default:deal/send` },
  { method: 'POST', route: '/v1/viewer-tokens', need: 'ingest', path: () => '/v1/viewer-tokens', body: () => ({ viewerId: 'vera' }) },
  { method: 'POST', route: '/v1/purchases', need: 'ingest', path: () => '/v1/purchases', body: () => ({ orderId: `o-${seq++}`, viewerId: 'vera', amount: 100, currency: 'CNY' }) },
  { method: 'POST', route: '/v1/purchases/batch', need: 'ingest', path: () => '/v1/purchases/batch', body: () => ({ orders: [{ orderId: `ob-${seq++}`, viewerId: 'vera', amount: 100, currency: 'CNY' }] }) },
  { method: 'POST', route: '/v1/refunds', need: 'ingest', path: () => '/v1/refunds', body: () => ({ orderId: 'no-such-order' }) },
  { method: 'POST', route: '/v1/coupons/:code/redeem', need: 'ingest', path: () => '/v1/coupons/ABCDEFGHJK/redeem', body: () => ({ orderId: 'o', viewerId: 'vera' }) },
];
/** Routes open to anyone, each covered elsewhere: static assets and pages, health, the beacon (authenticated like the socket, below), CORS preflights (test/integration/cors.test.ts). */
const PUBLIC = ['GET /', 'GET /healthz', 'GET /readyz', 'GET /favicon.ico', 'GET /:name', 'GET /demo/*', 'GET /host/:streamId', 'GET /host/:streamId/report', 'GET /channel/:channel', 'POST /v1/collect', 'OPTIONS *'];
/** The API documentation (server/openapi.ts): the OpenAPI document and @fastify/swagger-ui's pages and assets, open to anyone (test/integration/openapi.test.ts). */
const DOCS = ['GET /openapi.json', 'GET /docs', 'GET /docs/static/index.html', 'GET /docs/static/swagger-initializer.js', 'GET /docs/json', 'GET /docs/yaml', 'GET /docs/static/*'];
/** Covered by its own matrix below (a WebSocket upgrade). */
const FEED = 'GET /v1/streams/:id/feed';

/** What each credential must get on an endpoint needing `need`: a status, or 'ok' (not 401/403, below 500). */
function expected(need: Need, cred: Cred): number | 'ok' {
  const channelKey = cred === 'channelKey' || cred === 'otherChannelKey';
  // admin-only routes know channel keys (403: valid, but not for this) and nothing else but the admin key
  if (need === 'admin') return cred === 'admin' ? 'ok' : channelKey ? 403 : 401;
  const unknown = cred === 'none' || cred === 'expiredToken' || cred === 'tamperedToken' || cred === 'tamperedKey';
  if (unknown) return 401;
  // a channel's overview: the admin key or that channel's read-only key
  if (need === 'channel') return cred === 'admin' || cred === 'channelKey' ? 'ok' : 403;
  if (need === 'host') return cred === 'host' ? 'ok' : 403;
  // ingest: any stream's ingest key acts for its own stream and channel (checked below); other kinds are 403
  return cred === 'ingest' || cred === 'otherStreamIngest' || cred === 'otherChannelIngest' ? 'ok' : 403;
}

describe('the access matrix', () => {
  it('covers every route the server has', () => {
    const known = new Set([...ENDPOINTS.map((e) => `${e.method} ${e.route}`), ...PUBLIC, ...DOCS, FEED]);
    const missing = routes.map((r) => `${r.method} ${r.url}`).filter((r) => !known.has(r));
    expect(missing, 'routes with no row in the access matrix').toEqual([]);
    for (const e of ENDPOINTS) expect(routes.some((r) => r.method === e.method && r.url === e.route), `${e.method} ${e.route} exists`).toBe(true);
  });

  it('gives every REST endpoint × credential exactly the answer it should', async () => {
    const wrong: string[] = [];
    for (const e of ENDPOINTS) {
      for (const cred of CREDS) {
        const r = await api(e.method, e.path(), e.body?.(), key[cred]);
        const want = expected(e.need, cred);
        const ok = want === 'ok' ? r.status !== 401 && r.status !== 403 && r.status < 500 : r.status === want;
        if (!ok) wrong.push(`${e.method} ${e.path()} with ${cred}: ${r.status} (wanted ${want}) ${JSON.stringify(r.body).slice(0, 120)}`);
        if (!ok || want === 'ok') continue;
        // a refusal is the documented error shape, and says nothing about what exists
        expect(r.body).toMatchObject({ statusCode: want, error: want === 401 ? 'unauthorized' : 'forbidden' });
      }
    }
    expect(wrong).toEqual([]);
  });

  it('an ingest key acts only for its own channel: another channel cannot redeem or read this one\'s coupons', async () => {
    // a real coupon for vera in shop-a (the mid-tier deal after her first purchase)
    await api('POST', '/v1/purchases', { orderId: 'iso-1', viewerId: 'iso-viewer', amount: 25_000, currency: 'CNY' }, A.ingestKey);
    const code = await withSql(database, async (q) => (await q.get<{ code: string }>("SELECT code FROM offers WHERE viewer_id = 'iso-viewer'"))?.code);
    expect(code).toBeTruthy();
    const other = await api('POST', `/v1/coupons/${code}/redeem`, { orderId: 'iso-2', viewerId: 'iso-viewer' }, C.ingestKey);
    expect(other.status).toBe(404);
    // a purchase reported with another channel's key is that channel's: shop-a's viewer is not touched
    await api('POST', '/v1/purchases', { orderId: 'iso-3', viewerId: 'iso-viewer', amount: 99_999, currency: 'CNY' }, C.ingestKey);
    const rows = await withSql(database, (q) => q.all<{ channel: string }>("SELECT channel FROM purchases WHERE order_id = 'iso-3'"));
    expect(rows).toEqual([{ channel: 'shop-c' }]);
    // another stream of the same channel may redeem it: coupons follow the viewer across the channel
    const same = await api('POST', `/v1/coupons/${code}/redeem`, { orderId: 'iso-4', viewerId: 'iso-viewer' }, B.ingestKey);
    expect(same.status).toBe(200);
  });
});

function handshake(nsp: '/viewer' | '/host', auth: Record<string, unknown>): Promise<string> {
  return new Promise((resolve) => {
    const s = ioClient(url + nsp, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    s.on('connect', () => {
      s.close();
      resolve('ok');
    });
    s.on('connect_error', (err) => {
      s.close();
      resolve(err.message);
    });
  });
}

describe('socket.io namespaces and the raw feed', () => {
  it('/viewer: anonymous or a valid token of this channel; any other token is refused', async () => {
    const want: Record<Cred, string> = {
      none: 'ok', admin: 'unauthorized', host: 'unauthorized', ingest: 'unauthorized', otherStreamHost: 'unauthorized', otherStreamIngest: 'unauthorized',
      otherChannelHost: 'unauthorized', otherChannelIngest: 'unauthorized', channelKey: 'unauthorized', otherChannelKey: 'unauthorized',
      expiredToken: 'unauthorized', tamperedToken: 'unauthorized', tamperedKey: 'unauthorized',
    };
    for (const cred of CREDS) {
      const auth = { streamId: A.id, viewerId: 'someone', ...(key[cred] ? { token: key[cred] } : {}) };
      expect(await handshake('/viewer', auth), cred).toBe(want[cred]);
    }
    expect(await handshake('/viewer', { streamId: A.id, viewerId: 'x', token: validToken })).toBe('ok');
    expect(await handshake('/viewer', { streamId: A.id, viewerId: 'x', token: otherChannelToken })).toBe('unauthorized');
    expect(await handshake('/viewer', { streamId: B.id, viewerId: 'x', token: validToken })).toBe('ok'); // same channel
    expect(await handshake('/viewer', { streamId: 'nope', viewerId: 'x' })).toBe('not_found');
  });

  it('/host: only this stream\'s host key', async () => {
    for (const cred of CREDS) {
      const got = await handshake('/host', { streamId: A.id, ...(key[cred] ? { hostKey: key[cred] } : {}) });
      expect(got, cred).toBe(cred === 'host' ? 'ok' : 'unauthorized');
    }
  });

  it('the raw feed: only this stream\'s host key, as a header or ?key=', async () => {
    const open = (headers: Record<string, string>, q = '') =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/streams/${A.id}/feed${q}`, { headers });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => {});
      });
    for (const cred of CREDS) {
      const status = await open(key[cred] ? { authorization: `Bearer ${key[cred]}` } : {});
      if (cred === 'host') expect(status, cred).toBe(101);
      else expect([401, 403], cred).toContain(status);
    }
    expect(await open({}, `?key=${encodeURIComponent(A.hostKey)}`)).toBe(101);
    expect([401, 403]).toContain(await open({}, `?key=${encodeURIComponent(B.hostKey)}`));
  });
});

describe('key rotation', () => {
  it('gives new keys; the old ones work for graceSeconds and then stop; open host sockets with an old key are dropped', async () => {
    const s = await stream({ channel: 'rot' });
    const hostSocket = ioClient(url + '/host', { auth: { streamId: s.id, hostKey: s.hostKey }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((r) => hostSocket.once('connect', () => r()));
    const dropped = new Promise<string>((r) => hostSocket.once('disconnect', r));

    const r = await api('POST', `/v1/streams/${s.id}/keys/rotate`, { graceSeconds: 1 }, ADMIN_KEY);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: s.id, graceSeconds: 1, hostKey: expect.stringMatching(/^lt_host_/), ingestKey: expect.stringMatching(/^lt_ingest_/) });
    expect(r.body.hostKey).not.toBe(s.hostKey);
    expect(r.body.previousValidUntil).toBeGreaterThan(Date.now());
    // both generations work during the grace period, on every surface
    for (const k of [s.hostKey, r.body.hostKey]) expect((await api('GET', `/v1/streams/${s.id}/summary`, undefined, k)).status).toBe(200);
    for (const k of [s.ingestKey, r.body.ingestKey]) expect((await api('POST', '/v1/viewer-tokens', { viewerId: 'v' }, k)).status).toBe(200);
    expect(await handshake('/host', { streamId: s.id, hostKey: s.hostKey })).toBe('ok');
    // the keys are stored only as digests
    const [row, retired] = await withSql(database, (q) =>
      Promise.all([q.get('SELECT * FROM streams WHERE id = ?', s.id), q.all('SELECT * FROM retired_keys WHERE stream_id = ?', s.id)]),
    );
    expect(JSON.stringify([row, retired])).not.toContain(r.body.hostKey);
    expect(JSON.stringify([row, retired])).not.toContain(s.hostKey);

    await until(() => Date.now() > r.body.previousValidUntil + 20, 3000, 'the grace period to end');
    expect((await api('GET', `/v1/streams/${s.id}/summary`, undefined, s.hostKey)).status).toBe(401);
    expect((await api('POST', '/v1/viewer-tokens', { viewerId: 'v' }, s.ingestKey)).status).toBe(401);
    expect(await handshake('/host', { streamId: s.id, hostKey: s.hostKey })).toBe('unauthorized');
    expect((await api('GET', `/v1/streams/${s.id}/summary`, undefined, r.body.hostKey)).status).toBe(200);
    expect(await dropped).toBe('io server disconnect');
  });

  it('with no grace the old keys stop at once; unknown streams, bad bodies and non-admins are refused', async () => {
    const s = await stream({ channel: 'rot' });
    const r = await api('POST', `/v1/streams/${s.id}/keys/rotate`, {}, ADMIN_KEY);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ graceSeconds: 0, previousValidUntil: null });
    expect((await api('GET', `/v1/streams/${s.id}/summary`, undefined, s.hostKey)).status).toBe(401);
    expect((await api('POST', '/v1/purchases', { orderId: 'x', viewerId: 'v', amount: 1, currency: 'CNY' }, s.ingestKey)).status).toBe(401);
    expect((await api('GET', `/v1/streams/${s.id}/summary`, undefined, r.body.hostKey)).status).toBe(200);
    // no body at all is the same as {}
    const bare = await fetch(`${url}/v1/streams/${s.id}/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(bare.status).toBe(200);
    expect((await api('POST', '/v1/streams/nope/keys/rotate', {}, ADMIN_KEY)).status).toBe(404);
    for (const body of [{ graceSeconds: -1 }, { graceSeconds: 1.5 }, { graceSeconds: 999_999_999 }, { graceSeconds: '10' }, { other: 1 }]) {
      const bad = await api('POST', `/v1/streams/${s.id}/keys/rotate`, body, ADMIN_KEY);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.message).toMatch(/graceSeconds|additional|other/);
    }
    expect((await api('POST', `/v1/streams/${s.id}/keys/rotate`, {}, s.hostKey)).status).toBe(401);
  });
});
