/**
 * CORS on the host-key REST routes (server/routes/cors.ts): a host panel embedded in the
 * streamer's own page may read and write `/v1/streams/:id/…` with the host key from the stream's
 * allowed origins (any origin when the stream has none); other origins, and every route outside a
 * stream (the merchant API, admin routes), get no CORS headers, so the browser keeps them out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createStream, startServer, type StreamKeys, type TestServer } from '../helpers/server.js';

const SHOP = 'https://shop.example';
let srv: TestServer;
let locked: StreamKeys; // allowedOrigins: [SHOP]
let open: StreamKeys; // no allowedOrigins

beforeAll(async () => {
  srv = await startServer();
  locked = await createStream(srv, { title: 'Locked', allowedOrigins: [SHOP] });
  open = await createStream(srv, { title: 'Open' });
});
afterAll(async () => srv?.close());

const preflight = (path: string, origin: string, method = 'GET') =>
  fetch(`${srv.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  });

describe('CORS for the host panel on another origin', () => {
  it('answers a preflight from an allowed origin with the methods and headers the panel uses', async () => {
    const res = await preflight(`/v1/streams/${locked.id}/campaigns/c1`, SHOP, 'PATCH');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('lets an allowed origin read a host route, and the key still decides', async () => {
    const ok = await fetch(`${srv.url}/v1/streams/${locked.id}/viewers?sort=value&limit=5`, {
      headers: { origin: SHOP, authorization: `Bearer ${locked.hostKey}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP);
    const wrongKey = await fetch(`${srv.url}/v1/streams/${locked.id}/viewers`, { headers: { origin: SHOP, authorization: 'Bearer lt_host_nope' } });
    expect(wrongKey.status).toBe(401);
    // the panel can read the error message too
    expect(wrongKey.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect((await wrongKey.json()).message).toBeTruthy();
  });

  it('gives an origin the stream does not allow no CORS headers (preflight 404, reads unreadable)', async () => {
    const pre = await preflight(`/v1/streams/${locked.id}/viewers`, 'https://evil.example');
    expect(pre.status).toBe(404);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetch(`${srv.url}/v1/streams/${locked.id}/viewers`, {
      headers: { origin: 'https://evil.example', authorization: `Bearer ${locked.hostKey}` },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a stream without allowed origins accepts any origin, as its sockets do', async () => {
    const res = await preflight(`/v1/streams/${open.id}/campaigns`, 'https://anyone.example', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://anyone.example');
  });

  it('routes outside a stream, and unknown streams, get no CORS headers', async () => {
    for (const path of ['/v1/purchases', '/v1/streams', '/v1/streams/no-such-stream/viewers', '/v1/streams/%E0%A4%A/viewers']) {
      const res = await preflight(path, SHOP, 'POST');
      expect([400, 404], path).toContain(res.status); // a malformed escape is Fastify's 400
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const created = await fetch(`${srv.url}/v1/streams`, {
      method: 'POST',
      headers: { origin: SHOP, authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'From a browser' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBeNull();
  });
});
