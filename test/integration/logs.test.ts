/**
 * Logs carry no tokens, keys or comment texts: a server logging at `trace` through the
 * production logger options, driven through every path that handles a secret, and its whole
 * output searched for each secret.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { fastifyOptions, logRequest } from '../../server/app.js';
import { startServer, createStream, viewerToken, connectViewer, client, connect, closeAllClients, collect, until, ADMIN_KEY, eid, type TestServer } from '../helpers/server.js';

let srv: TestServer | undefined;
afterAll(async () => {
  closeAllClients();
  await srv?.close();
});

describe('logs', () => {
  it('masks secret query values in request lines', () => {
    expect(logRequest({ method: 'GET', url: '/v1/streams/s/feed?key=lt_host_abc&x=1', ip: '1.2.3.4' }).url).toBe('/v1/streams/s/feed?key=[redacted]&x=1');
    expect(logRequest({ method: 'GET', url: '/a?x=1&token=eyJ.a.b#f' }).url).toBe('/a?x=1&token=[redacted]#f');
    expect(logRequest({ method: 'GET', url: '/v1/streams/s/summary' }).url).toBe('/v1/streams/s/summary');
    expect(logRequest({ method: 'POST', url: '/v1/coupons/ABCDEFGHJK/redeem' }).url).toBe('/v1/coupons/[redacted]/redeem');
  });

  it('never contain keys, tokens or what viewers typed', async () => {
    let out = '';
    const stream = new Writable({ write: (chunk, _enc, cb) => ((out += chunk), cb()) });
    const base = fastifyOptions('trace').logger as Record<string, unknown>;
    srv = await startServer({ fastify: { logger: { ...base, stream } } });
    const s = await createStream(srv, { channel: 'logged' });
    const token = await viewerToken(srv, s.ingestKey, 'lou');
    const comment = `my secret comment ${eid('t')}`;

    // a verified viewer comments; a bad event and a bad token go by too
    const { socket } = await connectViewer(srv, { streamId: s.id, viewerId: 'x', token });
    const offers = collect(socket, 'offer');
    expect((await socket.emitWithAck('track', [{ id: eid(), type: 'comment', ts: 1, data: { text: comment } }, { id: eid(), type: 'comment', ts: 1, data: { text: comment.repeat(40) } }])).accepted).toBe(1);
    await connect(client(srv, '/viewer', { streamId: s.id, viewerId: 'x', token: token.slice(0, -2) + 'xx' })).catch(() => {});
    // the merchant's backend and the host at work, with right and wrong keys
    await srv.api('POST', '/v1/purchases', { orderId: 'log-1', viewerId: 'lou', amount: 25_000, currency: 'CNY' }, s.ingestKey);
    await until(() => offers.length > 0, 5000, 'the deal offer');
    await srv.api('POST', `/v1/coupons/${offers[0].code}/redeem`, { orderId: 'log-1', viewerId: 'lou' }, s.ingestKey);
    await srv.api('GET', `/v1/streams/${s.id}/summary`, undefined, s.ingestKey);
    const host = client(srv, '/host', { streamId: s.id, hostKey: s.hostKey });
    await connect(host);
    await host.emitWithAck('push', { tier: 'mid', offer: { title: 'For you', discount: { kind: 'percent', value: 5 }, ttlSeconds: 60 } });
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${srv!.url.replace('http', 'ws')}/v1/streams/${s.id}/feed?key=${encodeURIComponent(s.hostKey)}`);
      ws.on('message', () => (ws.close(), resolve()));
    });
    const rotated = await srv.api('POST', `/v1/streams/${s.id}/keys/rotate`, { graceSeconds: 5 }, ADMIN_KEY);
    expect(rotated.status).toBe(200);
    await srv.api('GET', `/v1/streams/${s.id}/summary`, undefined, 'lt_host_not-a-real-key');
    await new Promise((r) => setTimeout(r, 300));

    // the log saw all of it (the feed request line is there, masked) ...
    expect(out).toContain('/v1/streams/' + s.id + '/feed?key=[redacted]');
    expect(out).toContain('/v1/purchases');
    // ... and holds none of the secrets
    const secrets = { adminKey: ADMIN_KEY, hostKey: s.hostKey, ingestKey: s.ingestKey, token, comment, newHostKey: rotated.body.hostKey, newIngestKey: rotated.body.ingestKey, coupon: offers[0].code };
    for (const [name, value] of Object.entries(secrets)) {
      expect(out.includes(value), `${name} is in the log`).toBe(false);
      expect(out.includes(encodeURIComponent(value)), `${name} (URL-encoded) is in the log`).toBe(false);
    }
  });
});
