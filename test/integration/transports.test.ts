/**
 * socket.io (websocket and polling) and the raw @fastify/websocket feed share one port: the
 * upgrade split keeps either from answering the other's upgrades with 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, createStream, connectViewer, closeAllClients, eid, until, type TestServer, type StreamKeys } from '../helpers/server.js';

let srv: TestServer;
let stream: StreamKeys;

beforeAll(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Transports' });
});
afterAll(async () => {
  closeAllClients();
  await srv.close();
});

const feedUrl = (key?: string) => `${srv.url.replace('http', 'ws')}/v1/streams/${stream.id}/feed${key ? `?key=${encodeURIComponent(key)}` : ''}`;

describe('one port, three transports', () => {
  it('socket.io over websocket only, over polling only, and the raw feed, together', async () => {
    const ws = await connectViewer(srv, { streamId: stream.id, viewerId: 'ws-viewer' }, { transports: ['websocket'] });
    const poll = await connectViewer(srv, { streamId: stream.id, viewerId: 'poll-viewer' }, { transports: ['polling'] });
    expect(ws.socket.io.engine.transport.name).toBe('websocket');
    expect(poll.socket.io.engine.transport.name).toBe('polling');

    const feed = new WebSocket(feedUrl(stream.hostKey));
    const messages: any[] = [];
    feed.on('message', (m) => messages.push(JSON.parse(String(m))));
    await new Promise((resolve, reject) => (feed.once('open', resolve), feed.once('error', reject)));
    await until(() => messages.length >= 1, 3000, 'feed snapshot');
    expect(messages[0]).toMatchObject({ type: 'snapshot', streamId: stream.id, connected: 2 });

    expect((await ws.socket.emitWithAck('track', [{ id: eid(), type: 'like', ts: 1 }])).accepted).toBe(1);
    expect((await poll.socket.emitWithAck('track', [{ id: eid(), type: 'like', ts: 1 }])).accepted).toBe(1);

    poll.socket.close();
    await until(() => messages.some((m) => m.type === 'update' && m.connected === 1), 3000, 'feed update');
    feed.close();
  });

  it('polling upgrades to websocket on the same port', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'upgrader' }, { transports: ['polling', 'websocket'] });
    await until(() => socket.io.engine.transport.name === 'websocket', 5000, 'upgrade');
    expect((await socket.emitWithAck('track', [{ id: eid(), type: 'like', ts: 1 }])).accepted).toBe(1);
  });

  it('the feed refuses a wrong key at the upgrade with 401', async () => {
    for (const key of [undefined, 'lt_host_wrong', stream.ingestKey]) {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(feedUrl(key));
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      expect(status, `key ${key}`).toBe(401);
    }
  });

  it('the feed accepts the host key as an Authorization header', async () => {
    const ws = new WebSocket(feedUrl(), { headers: { authorization: `Bearer ${stream.hostKey}` } });
    const first = await new Promise<any>((resolve, reject) => {
      ws.once('message', (m) => resolve(JSON.parse(String(m))));
      ws.once('error', reject);
    });
    expect(first.type).toBe('snapshot');
    ws.close();
  });
});
