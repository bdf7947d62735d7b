/**
 * Bad input gets a clear error and loses nothing: every path named in the contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY, startServer, createStream, viewerToken, connectViewer, client, connect, waitFor, closeAllClients, eid,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { signViewerToken } from '../../server/auth/tokens.js';
import { withSql } from '../helpers/sql.js';

let srv: TestServer;
let stream: StreamKeys;
let other: StreamKeys;

beforeEach(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Main', channel: 'shop-a', allowedOrigins: ['https://shop.example'] });
  other = await createStream(srv, { title: 'Other shop', channel: 'shop-b' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const countEvents = () => withSql(srv, async (q) => (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n);

describe('track: events are judged one by one', () => {
  it('rejects malformed events with a reason and keeps the good ones beside them', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v1' });
    const good1 = { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'hi' } };
    const good2 = { id: eid(), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: 1000 } };
    const ack = await socket.emitWithAck('track', [
      good1,
      { id: 'bad-type', type: 'teleport', ts: Date.now() },
      { id: 'bad-data', type: 'comment', ts: Date.now(), data: { text: '' } },
      { id: 'bad-watch', type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: -5 } },
      { id: 'no-data', type: 'product_view', ts: Date.now() },
      { id: 'extra', type: 'like', ts: Date.now(), data: { count: 1, evil: true } },
      'not an event',
      null,
      { type: 'like', ts: Date.now() },
      good2,
    ]);
    expect(ack.accepted).toBe(2);
    expect(ack.duplicates).toBe(0);
    expect(ack.rejected).toHaveLength(8);
    const byId = Object.fromEntries(ack.rejected.filter((r: any) => r.id).map((r: any) => [r.id, r.reason]));
    expect(byId['bad-type']).toMatch(/type/);
    expect(byId['bad-data']).toMatch(/data\.text/);
    expect(byId['bad-watch']).toMatch(/data\.engagedMs/);
    expect(byId['no-data']).toMatch(/data is required/);
    expect(byId['extra']).toMatch(/additional/);
    expect(ack.rejected.filter((r: any) => r.id === null)).toHaveLength(3);
    expect(await countEvents()).toBe(2);
  });

  it('counts duplicate ids as duplicates, never twice, within a batch and across batches', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v1' });
    const e = { id: eid(), type: 'like', ts: Date.now() };
    expect(await socket.emitWithAck('track', [e, e])).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
    expect(await socket.emitWithAck('track', [e])).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    expect(await countEvents()).toBe(1);
    const summary = await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey);
    expect(summary.body.viewers[0].thisStream.likes).toBe(1);
  });

  it('answers a payload that is not an array with { error }', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v1' });
    const ack = await socket.emitWithAck('track', { id: 'x', type: 'like' });
    expect(ack.error).toMatchObject({ code: 'bad_request' });
    expect(ack.error.message).toMatch(/array/);
  });

  it('refuses an oversized payload by closing that connection, and the server keeps serving', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v1' });
    const closed = waitFor(socket, 'disconnect');
    socket.emit('track', [{ id: eid(), type: 'comment', ts: Date.now(), data: { text: 'x'.repeat(400 * 1024) } }]);
    expect(await closed).toBeTruthy();
    expect(await countEvents()).toBe(0);
    const { socket: s2 } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v2' });
    expect((await s2.emitWithAck('track', [{ id: eid(), type: 'like', ts: 1 }])).accepted).toBe(1);
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
  });

  it('refuses too many events in one call', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v1' });
    const many = Array.from({ length: 501 }, () => ({ id: eid(), type: 'like', ts: 1 }));
    const ack = await socket.emitWithAck('track', many);
    expect(ack.error.code).toBe('bad_request');
    expect(await countEvents()).toBe(0);
  });
});

describe('socket handshakes', () => {
  const expectRefused = async (nsp: '/viewer' | '/host', auth: Record<string, unknown>, code: string, opts = {}) => {
    const s = client(srv, nsp, auth, opts);
    const err: any = await connect(s).then(() => null, (e) => e);
    expect(err, `expected connect_error ${code}`).not.toBeNull();
    expect(err.message).toBe(code);
    expect(err.data?.message).toBeTruthy();
  };

  it('refuses a wrong, tampered, expired or other-channel viewer token', async () => {
    const good = await viewerToken(srv, stream.ingestKey, 'alice');
    await expectRefused('/viewer', { streamId: stream.id, viewerId: 'alice', token: 'not.a.jwt' }, 'unauthorized');
    const [h, p, sig] = good.split('.');
    const tampered = [h, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'mallory' })).toString('base64url'), sig].join('.');
    await expectRefused('/viewer', { streamId: stream.id, viewerId: 'x', token: tampered }, 'unauthorized');
    const otherChannel = await viewerToken(srv, other.ingestKey, 'alice');
    await expectRefused('/viewer', { streamId: stream.id, viewerId: 'x', token: otherChannel }, 'unauthorized');
    const secret = await withSql(srv, async (q) => (await q.get<{ token_secret: string }>("SELECT token_secret FROM channels WHERE id = 'shop-a'"))!.token_secret);
    const expired = signViewerToken(secret, 'shop-a', 'alice', Date.now() - 2 * 86_400_000, 3600);
    await expectRefused('/viewer', { streamId: stream.id, viewerId: 'x', token: expired }, 'unauthorized');
  });

  it('refuses an unknown stream, a bad viewer id, and a wrong host key', async () => {
    await expectRefused('/viewer', { streamId: 'nope', viewerId: 'v1' }, 'not_found');
    await expectRefused('/viewer', { streamId: stream.id, viewerId: '<script>' }, 'bad_request');
    await expectRefused('/viewer', {}, 'bad_request');
    await expectRefused('/host', { streamId: stream.id, hostKey: 'lt_host_wrong' }, 'unauthorized');
    await expectRefused('/host', { streamId: stream.id, hostKey: other.hostKey }, 'unauthorized');
    await expectRefused('/host', { streamId: stream.id }, 'unauthorized');
  });

  it('refuses browsers from origins the stream does not allow', async () => {
    await expectRefused('/viewer', { streamId: stream.id, viewerId: 'v1' }, 'origin_not_allowed', { extraHeaders: { origin: 'https://evil.example' } });
    const ok = client(srv, '/viewer', { streamId: stream.id, viewerId: 'v1' }, { extraHeaders: { origin: 'https://shop.example' } });
    await connect(ok);
    expect(ok.connected).toBe(true);
  });

  it('keeps anonymous viewers out of logged-in viewers\' ids', async () => {
    const { hello } = await connectViewer(srv, { streamId: stream.id, viewerId: 'alice' });
    expect(hello).toMatchObject({ viewerId: 'anon:alice', verified: false });
  });
});

describe('REST: keys and bodies', () => {
  const purchase = { orderId: 'o1', viewerId: 'alice', amount: 1000, currency: 'CNY' };

  it('401 without a key or with an unknown key; 403 with the wrong kind of key', async () => {
    expect((await srv.api('POST', '/v1/streams', { title: 'x' })).status).toBe(401);
    expect((await srv.api('POST', '/v1/streams', { title: 'x' }, 'wrong-admin-key')).status).toBe(401);
    expect((await srv.api('POST', '/v1/streams', { title: 'x' }, stream.hostKey)).status).toBe(401);
    expect((await srv.api('POST', '/v1/purchases', purchase)).status).toBe(401);
    expect((await srv.api('POST', '/v1/purchases', purchase, 'lt_ingest_unknown')).status).toBe(401);
    const wrongKind = await srv.api('POST', '/v1/purchases', purchase, stream.hostKey);
    expect(wrongKind.status).toBe(403);
    expect(wrongKind.body.message).toMatch(/ingest key/);
    expect((await srv.api('POST', '/v1/viewer-tokens', { viewerId: 'a' }, ADMIN_KEY)).status).toBe(403);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`)).status).toBe(401);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, other.hostKey)).status).toBe(403);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.ingestKey)).status).toBe(403);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, 'lt_host_nope')).status).toBe(401);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).status).toBe(200);
  });

  it('400 with a message for a negative or non-integer amount, and for a bad currency', async () => {
    for (const amount of [-1, 10.5, '100', null]) {
      const r = await srv.api('POST', '/v1/purchases', { ...purchase, amount }, stream.ingestKey);
      expect(r.status, `amount ${amount}`).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'bad_request' });
      expect(r.body.message).toMatch(/amount/);
    }
    const cur = await srv.api('POST', '/v1/purchases', { ...purchase, currency: 'yuan' }, stream.ingestKey);
    expect(cur.status).toBe(400);
    expect(cur.body.message).toMatch(/currency/);
    const missing = await srv.api('POST', '/v1/purchases', { amount: 5 }, stream.ingestKey);
    expect(missing.status).toBe(400);
    const typo = await srv.api('POST', '/v1/purchases', { ...purchase, ammount: 5 }, stream.ingestKey);
    expect(typo.status).toBe(400);
    expect(typo.body.message).toMatch(/ammount/);
    const future = await srv.api('POST', '/v1/purchases', { ...purchase, at: Date.now() + 86_400_000 }, stream.ingestKey);
    expect(future.status).toBe(400);
    // nothing of the bad requests was recorded
    const s = await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(s.body.orders).toBe(0);
  });

  it('400 for broken JSON, 413 for an oversized body, 404 with a message for unknown routes', async () => {
    const broken = await srv.api('POST', '/v1/purchases', '{"orderId": "o1", ', stream.ingestKey);
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe('bad_request');
    expect(broken.body.message).toBeTruthy();
    const big = await srv.api('POST', '/v1/purchases', { ...purchase, couponCode: 'x'.repeat(100 * 1024) }, stream.ingestKey);
    expect(big.status).toBe(413);
    const nf = await srv.api('GET', '/v1/nothing');
    expect(nf.status).toBe(404);
    expect(nf.body.message).toMatch(/no route/);
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
  });

  it('400 for a bad stream document', async () => {
    const r = await srv.api('POST', '/v1/streams', { title: 'x', allowedOrigins: ['not a url'] }, ADMIN_KEY);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/allowedOrigins/);
    expect((await srv.api('POST', '/v1/streams', {}, ADMIN_KEY)).status).toBe(400);
  });
});
