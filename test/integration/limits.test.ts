/**
 * Flood limits, each with a small configured value so the test can cross it: events per
 * second per connection (a per-event reject reason, never a silent drop), track calls in flight,
 * new connections per IP, sockets per viewer, REST requests per IP, payload caps on every
 * surface, and the close of a viewer socket that stopped reading.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startServer, createStream, connectViewer, client, connect, closeAllClients, eid, until, type TestServer } from '../helpers/server.js';
import type { Limits } from '../../server/config.js';
import type { TrustProxy } from '../../server/trust-proxy.js';
import { withSql } from '../helpers/sql.js';

const servers: TestServer[] = [];
afterEach(async () => {
  closeAllClients();
  for (const s of servers.splice(0)) await s.close();
});

async function serverWith(limits: Partial<Limits>, trustProxy: TrustProxy = false) {
  const srv = await startServer({ app: { limits, trustProxy } });
  servers.push(srv);
  return { srv, stream: await createStream(srv) };
}

const likes = (n: number, p = 'l') => Array.from({ length: n }, () => ({ id: eid(p), type: 'like', ts: Date.now() }));
/** how many of these event ids are stored */
const stored = (srv: TestServer, ids: string[]) =>
  withSql(srv, async (q) => {
    let n = 0;
    for (const id of ids) if (await q.get('SELECT 1 FROM events WHERE id = ?', id)) n++;
    return n;
  });

describe('events per second per connection', () => {
  it('rejects the events beyond the limit with a reason each, stores none of them, and takes them later', async () => {
    const { srv, stream } = await serverWith({ eventsPerSecond: 10, eventsBurst: 20 });
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'flooder' });
    const batch = likes(30);
    const ack = await socket.emitWithAck('track', batch);
    expect(ack.accepted).toBe(20);
    expect(ack.rejected).toHaveLength(10);
    expect(ack.rejected.map((r: any) => r.id)).toEqual(batch.slice(20).map((e) => e.id));
    for (const r of ack.rejected) expect(r.reason).toMatch(/^rate_limited: more than 10 events per second/);
    expect(await stored(srv, batch.slice(20).map((e) => e.id))).toBe(0);
    // another connection has its own allowance
    const { socket: other } = await connectViewer(srv, { streamId: stream.id, viewerId: 'polite' });
    expect((await other.emitWithAck('track', likes(5))).accepted).toBe(5);
    // a second later the refused ones go in with the same ids
    await new Promise((r) => setTimeout(r, 1100));
    const retry = await socket.emitWithAck('track', batch.slice(20));
    expect(retry).toEqual({ accepted: 10, duplicates: 0, rejected: [] });
    expect(await stored(srv, batch.map((e) => e.id))).toBe(30);
  });

  it('caps the track calls waiting for their commit', async () => {
    const { srv, stream } = await serverWith({ maxInflightTracks: 1, eventsPerSecond: 0 });
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'eager' });
    const acks = await Promise.all(Array.from({ length: 20 }, () => socket.emitWithAck('track', likes(1))));
    const limited = acks.filter((a) => a.error);
    expect(limited.length).toBeGreaterThan(0);
    for (const a of limited) expect(a.error).toEqual({ code: 'rate_limited', message: expect.stringContaining('at most 1 track calls') });
    expect(acks.filter((a) => !a.error).every((a) => a.accepted === 1)).toBe(true);
  });
});

describe('under a flood', () => {
  it('well-behaved viewers still get every ack and their offers while a few clients flood', async () => {
    const { srv, stream } = await serverWith({ eventsPerSecond: 50, eventsBurst: 100, maxInflightTracks: 4 });
    const abusers = await Promise.all([1, 2, 3].map((i) => connectViewer(srv, { streamId: stream.id, viewerId: `abuser-${i}` })));
    let flooding = true;
    let refused = 0;
    const floods = abusers.map(async ({ socket }) => {
      while (flooding) {
        // no waiting for acks: many calls in flight, far over the rate
        const acks = await Promise.all(Array.from({ length: 8 }, () => socket.timeout(10_000).emitWithAck('track', likes(200, 'flood')).catch(() => null)));
        for (const a of acks) refused += a?.error ? 1 : (a?.rejected.length ?? 0);
      }
    });
    const good: { socket: Socket; offers: any[] }[] = [];
    for (let i = 0; i < 5; i++) {
      const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'x', token: (await srv.api('POST', '/v1/viewer-tokens', { viewerId: `good-${i}` }, stream.ingestKey)).body.token });
      const offers: any[] = [];
      socket.on('offer', (o: any, ack: (r: unknown) => void) => (offers.push(o), ack({ ok: true })));
      good.push({ socket, offers });
    }
    for (let round = 0; round < 10; round++) {
      const acks = await Promise.all(good.map(({ socket }) => socket.timeout(10_000).emitWithAck('track', likes(3, 'good'))));
      for (const a of acks) expect(a).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    }
    for (let i = 0; i < 5; i++) {
      expect((await srv.api('POST', '/v1/purchases', { orderId: `flood-${i}`, viewerId: `good-${i}`, amount: 25_000, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    }
    await until(() => good.every((g) => g.offers.length > 0), 10_000, 'offers for the well-behaved viewers');
    flooding = false;
    await Promise.all(floods);
    expect(refused).toBeGreaterThan(0); // the flood did hit the limits
  });
});

describe('connections', () => {
  it('refuses new connections from one IP beyond the per-minute limit, with a code', async () => {
    const { srv, stream } = await serverWith({ connectionsPerMinute: 4 });
    for (let i = 0; i < 4; i++) await connectViewer(srv, { streamId: stream.id, viewerId: `ip-${i}` });
    const err = await connect(client(srv, '/viewer', { streamId: stream.id, viewerId: 'ip-5' })).catch((e) => e);
    expect(err.message).toBe('rate_limited');
    expect(err.data.message).toMatch(/more than 4 new connections per minute/);
    // host connections count too
    const host = await connect(client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey })).catch((e) => e);
    expect(host.message).toBe('rate_limited');
  });

  it('caps the sockets one viewer has open', async () => {
    const { srv, stream } = await serverWith({ connectionsPerViewer: 2 });
    const a = await connectViewer(srv, { streamId: stream.id, viewerId: 'tabby' });
    await connectViewer(srv, { streamId: stream.id, viewerId: 'tabby' });
    const err = await connect(client(srv, '/viewer', { streamId: stream.id, viewerId: 'tabby' })).catch((e) => e);
    expect(err.message).toBe('too_many_connections');
    // someone else is not affected, and closing a tab frees a place
    await connectViewer(srv, { streamId: stream.id, viewerId: 'other' });
    a.socket.close();
    await until(async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.connected === 2);
    await connectViewer(srv, { streamId: stream.id, viewerId: 'tabby' });
  });

  it('closes a viewer socket that stopped reading instead of buffering for it', async () => {
    const { srv, stream } = await serverWith({ maxBufferedPackets: 3, eventsPerSecond: 0, maxInflightTracks: 0 });
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'slowpoke' });
    const { socket: good } = await connectViewer(srv, { streamId: stream.id, viewerId: 'reader' });
    // the client stops reading its TCP socket; every bad event earns a long rejection in the ack
    const tcp = (socket as Socket & { io: any }).io.engine.transport.ws._socket;
    tcp.pause();
    const junk = Array.from({ length: 500 }, (_, i) => ({ id: `${'x'.repeat(56)}-${String(i).padStart(6, '0')}`, type: 'nope', ts: 1 }));
    const nsp = srv.app.io.of('/viewer');
    for (let i = 0; i < 400 && nsp.sockets.size === 2; i++) {
      socket.emit('track', junk, () => {});
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => nsp.sockets.size === 1, 10_000, 'the stalled socket closed');
    // the reader is still served
    expect((await good.emitWithAck('track', likes(2))).accepted).toBe(2);
  });
});

describe('a host socket that stopped reading', () => {
  it('is dropped before more updates pile up for it; a reading host keeps getting them', async () => {
    const { srv, stream } = await serverWith({ maxBufferedPackets: 5, eventsPerSecond: 0 });
    const slow = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    const good = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await Promise.all([connect(slow), connect(good)]);
    const nsp = srv.app.io.of('/host');
    await until(() => nsp.sockets.size === 2, 5000, 'both hosts connected');
    // the slow host's transport can no longer write (its client stopped reading): engine.io buffers for it
    const stuck = nsp.sockets.get(slow.id!)!;
    const transport = stuck.conn.transport as unknown as { writable: boolean; send: (p: unknown) => void };
    transport.writable = false;
    transport.send = () => {}; // nothing leaves any more
    let updates = 0;
    good.on('update', () => updates++);
    const { socket: viewer } = await connectViewer(srv, { streamId: stream.id, viewerId: 'chatty' });
    for (let i = 0; i < 12 && nsp.sockets.size === 2; i++) {
      await viewer.emitWithAck('track', [{ id: eid('c'), type: 'comment', ts: Date.now(), data: { text: `hello ${i}` } }]);
      await new Promise((r) => setTimeout(r, 300)); // one host update per 250 ms at most
    }
    await until(() => nsp.sockets.size === 1, 5000, 'the stalled host dropped');
    expect(nsp.sockets.has(good.id!)).toBe(true);
    expect(updates).toBeGreaterThan(0);
    // what it had buffered went with it: nothing keeps growing for a socket nobody reads
    expect((stuck.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length).toBe(0);
  });
});

describe('behind a reverse proxy (--trust-proxy)', () => {
  const viewer = (srv: TestServer, streamId: string, viewerId: string, forwardedFor: string) =>
    connect(client(srv, '/viewer', { streamId, viewerId }, { extraHeaders: { 'x-forwarded-for': forwardedFor } })).then(
      () => 'ok',
      (e) => e.message,
    );
  const summary = (srv: TestServer, s: { id: string; hostKey: string }, forwardedFor: string) =>
    srv.api('GET', `/v1/streams/${s.id}/summary`, undefined, s.hostKey, { 'x-forwarded-for': forwardedFor }).then((r) => r.status);

  it('off (the default): a spoofed X-Forwarded-For does not escape the per-IP limits', async () => {
    const { srv, stream } = await serverWith({ connectionsPerMinute: 2, restPerMinute: 3 });
    expect([await viewer(srv, stream.id, 'a', '203.0.113.1'), await viewer(srv, stream.id, 'b', '203.0.113.2')]).toEqual(['ok', 'ok']);
    expect(await viewer(srv, stream.id, 'c', '203.0.113.3')).toBe('rate_limited');
    // createStream used one request
    expect([await summary(srv, stream, '203.0.113.1'), await summary(srv, stream, '203.0.113.2')]).toEqual([200, 200]);
    expect(await summary(srv, stream, '203.0.113.3')).toBe(429);
  });

  for (const trust of [1, ['127.0.0.1']] as TrustProxy[]) {
    it(`on (${JSON.stringify(trust)}): the forwarded client addresses are counted separately`, async () => {
      const { srv, stream } = await serverWith({ connectionsPerMinute: 2, restPerMinute: 3 }, trust);
      for (const ip of ['203.0.113.1', '203.0.113.2']) {
        expect([await viewer(srv, stream.id, `${ip}-a`, ip), await viewer(srv, stream.id, `${ip}-b`, ip)]).toEqual(['ok', 'ok']);
        expect(await viewer(srv, stream.id, `${ip}-c`, ip)).toBe('rate_limited');
      }
      // createStream counted for 127.0.0.1 (no header), not for the forwarded clients
      for (const ip of ['203.0.113.1', '203.0.113.2']) {
        expect([await summary(srv, stream, ip), await summary(srv, stream, ip), await summary(srv, stream, ip)]).toEqual([200, 200, 200]);
        expect(await summary(srv, stream, ip)).toBe(429);
      }
    });
  }
});

describe('REST and payload caps', () => {
  it('answers 429 rate_limited beyond the per-IP REST limit', async () => {
    const { srv, stream } = await serverWith({ restPerMinute: 5 });
    // createStream used one request
    for (let i = 0; i < 4; i++) expect((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).status).toBe(200);
    const r = await fetch(`${srv.url}/v1/streams/${stream.id}/summary`, { headers: { authorization: `Bearer ${stream.hostKey}` } });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await r.json()).toMatchObject({ statusCode: 429, error: 'rate_limited', message: expect.stringContaining('more than 5 requests per minute') });
  });

  it('caps bodies on every surface: REST JSON, the text/plain beacon, socket.io messages', async () => {
    const { srv, stream } = await serverWith({});
    const big = 'x'.repeat(70 * 1024);
    const rest = await srv.api('POST', '/v1/purchases', { orderId: big, viewerId: 'v', amount: 1, currency: 'CNY' }, stream.ingestKey);
    expect(rest.status).toBe(413);
    expect(rest.body.error).toBe('payload_too_large');
    const beacon = await srv.api('POST', '/v1/collect', JSON.stringify({ streamId: stream.id, viewerId: 'v', events: [{ id: 'a', type: 'comment', ts: 1, data: { text: big } }] }), undefined, { 'content-type': 'text/plain' });
    expect(beacon.status).toBe(413);
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'bulky' });
    const closed = new Promise<string>((r) => socket.once('disconnect', r));
    socket.emit('track', [{ id: 'huge', type: 'comment', ts: 1, data: { text: 'y'.repeat(300 * 1024) } }]);
    expect(await closed).toBe('transport close');
    expect(await stored(srv, ['huge'])).toBe(0);
  });
});
