/**
 * `POST /v1/collect` (the SDK's beacon path) and the alias made by `identify()`: a real server,
 * a real database, real socket.io clients and fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startServer,
  createStream,
  viewerToken,
  connectViewer,
  client,
  connect,
  closeAllClients,
  eid,
  until,
  type TestServer,
  type StreamKeys,
} from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';

let srv: TestServer;
let stream: StreamKeys;
let locked: StreamKeys;
const SITE = 'https://shop.example';

beforeAll(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Collect', channel: 'collect-shop' });
  locked = await createStream(srv, { title: 'Locked', channel: 'collect-shop', allowedOrigins: [SITE] });
});

afterAll(async () => {
  closeAllClients();
  await srv?.close();
});

/** what sendBeacon sends: a text/plain body */
const beacon = (body: unknown, headers: Record<string, string> = {}) =>
  srv.api('POST', '/v1/collect', typeof body === 'string' ? body : JSON.stringify(body), undefined, { 'content-type': 'text/plain;charset=UTF-8', ...headers });

function rows<T = Record<string, unknown>>(text: string, ...args: unknown[]): Promise<T[]> {
  return withSql(srv, (q) => q.all<T>(text, ...args));
}

describe('POST /v1/collect', () => {
  it('stores a text/plain batch and answers per event; a resend counts as duplicates', async () => {
    const events = [
      { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'hello' } },
      { id: eid(), type: 'like', ts: Date.now() },
      { id: eid(), type: 'poll_answer', ts: Date.now(), data: { pollId: 'p1', value: 4 } },
    ];
    const r = await beacon({ streamId: stream.id, viewerId: 'v_beacon1', events });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    const stored = await rows<{ id: string; viewer_id: string }>('SELECT id, viewer_id FROM events WHERE stream_id = ? AND viewer_id = ?', stream.id, 'anon:v_beacon1');
    expect(stored.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());

    const again = await beacon({ streamId: stream.id, viewerId: 'v_beacon1', events });
    expect(again.body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
  });

  it('dedups with the socket path: an event first sent over socket.io is a duplicate here', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_both' });
    const ev = { id: eid(), type: 'like', ts: Date.now() };
    expect(await socket.emitWithAck('track', [ev])).toMatchObject({ accepted: 1 });
    const r = await beacon({ streamId: stream.id, viewerId: 'v_both', events: [ev] });
    expect(r.body).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    socket.close();
  });

  it('rejects bad events beside good ones, naming the field', async () => {
    const good = { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'ok' } };
    const r = await beacon({
      streamId: stream.id,
      viewerId: 'v_mixed',
      events: [
        good,
        { id: 'bad-type', type: 'teleport', ts: 1 },
        { id: 'bad-poll', type: 'poll_answer', ts: 1, data: { pollId: 'p1', value: 9 } },
        'not an event',
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(1);
    expect(r.body.rejected).toHaveLength(3);
    expect(r.body.rejected[0]).toMatchObject({ id: 'bad-type', reason: expect.stringMatching(/type/) });
    expect(r.body.rejected[1]).toMatchObject({ id: 'bad-poll', reason: expect.stringMatching(/data\.value/) });
    expect(r.body.rejected[2]).toMatchObject({ id: null });
  });

  it('refuses broken JSON, a wrong shape and too many events with 400', async () => {
    const broken = await beacon('{"streamId": "x", events: [');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/JSON/) });

    const noEvents = await beacon({ streamId: stream.id, viewerId: 'v_x' });
    expect(noEvents.status).toBe(400);
    expect(noEvents.body.message).toMatch(/events/);

    const tooMany = await beacon({ streamId: stream.id, viewerId: 'v_x', events: Array.from({ length: 501 }, () => ({ id: 'x', type: 'like', ts: 1 })) });
    expect(tooMany.status).toBe(400);

    const badViewer = await beacon({ streamId: stream.id, viewerId: 'no spaces allowed', events: [] });
    expect(badViewer.status).toBe(400);
    expect(badViewer.body.message).toMatch(/viewerId/);
  });

  it('refuses a body over 64 KB with 413', async () => {
    const text = 'x'.repeat(400);
    const events = Array.from({ length: 200 }, (_, i) => ({ id: `big-${i}`, type: 'comment', ts: 1, data: { text } }));
    const r = await beacon({ streamId: stream.id, viewerId: 'v_big', events });
    expect(r.status).toBe(413);
    expect(r.body.error).toBe('payload_too_large');
    expect(await rows('SELECT id FROM events WHERE viewer_id = ?', 'anon:v_big')).toHaveLength(0);
  });

  it('authenticates like the socket: unknown stream 404, wrong token 401, other origin 403', async () => {
    const ev = () => [{ id: eid(), type: 'like', ts: Date.now() }];
    expect((await beacon({ streamId: 'nope', viewerId: 'v_1', events: ev() })).status).toBe(404);

    const wrong = await beacon({ streamId: stream.id, viewerId: 'v_1', token: 'not.a.token', events: ev() });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('unauthorized');

    const other = await beacon({ streamId: locked.id, viewerId: 'v_1', events: ev() }, { origin: 'https://evil.example' });
    expect(other.status).toBe(403);
    expect(other.body.message).toMatch(/origin/);

    const allowed = await beacon({ streamId: locked.id, viewerId: 'v_1', events: ev() }, { origin: SITE });
    expect(allowed.status).toBe(200);
    expect(allowed.body.accepted).toBe(1);
  });

  it('with a valid token the events belong to the verified viewer, whatever viewerId says', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'carol');
    const ev = { id: eid(), type: 'like', ts: Date.now() };
    const r = await beacon({ streamId: stream.id, viewerId: 'v_pretend', token, events: [ev] });
    expect(r.status).toBe(200);
    expect(await rows<{ viewer_id: string }>('SELECT viewer_id FROM events WHERE stream_id = ? AND id = ?', stream.id, ev.id)).toEqual([{ viewer_id: 'carol' }]);
  });

  it('answers an allowed origin with CORS headers', async () => {
    const res = await fetch(`${srv.url}/v1/collect`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: SITE },
      body: JSON.stringify({ streamId: locked.id, viewerId: 'v_cors', events: [] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE);
  });
});

describe('alias (identify)', () => {
  it('links the anonymous history to the verified viewer once, verified by the token', async () => {
    // an anonymous visit with a comment and a like
    const anon = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_dave' });
    const anonEvents = [
      { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'before login' } },
      { id: eid(), type: 'like', ts: Date.now() },
    ];
    expect(await anon.socket.emitWithAck('track', anonEvents)).toMatchObject({ accepted: 2 });
    anon.socket.close();
    const audience = async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.audience as number;
    const audienceBefore = await audience();

    // dave logs in: the SDK reconnects with the token and the anonymous id
    const token = await viewerToken(srv, stream.ingestKey, 'dave');
    const known = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_dave', token, alias: 'v_dave' });
    expect(known.hello).toMatchObject({ viewerId: 'dave', verified: true });

    await until(async () => (await rows('SELECT 1 FROM viewer_aliases WHERE anon_id = ?', 'anon:v_dave')).length === 1, 5000, 'alias row');
    expect(await rows<{ viewer_id: string }>('SELECT viewer_id FROM events WHERE id IN (?, ?)', anonEvents[0]!.id, anonEvents[1]!.id)).toEqual([
      { viewer_id: 'dave' },
      { viewer_id: 'dave' },
    ]);
    const [dave] = await rows<{ comments: number; likes: number; verified: number }>('SELECT comments, likes, verified FROM viewers WHERE channel = ? AND id = ?', 'collect-shop', 'dave');
    expect(dave).toMatchObject({ comments: 1, likes: 1, verified: 1 });
    expect(await rows('SELECT 1 FROM viewers WHERE id = ?', 'anon:v_dave')).toHaveLength(0);
    const vs = await rows<{ comments: number }>('SELECT comments FROM viewer_streams WHERE stream_id = ? AND viewer_id = ?', stream.id, 'dave');
    expect(vs).toEqual([{ comments: 1 }]);

    // the audience counts dave once: the anonymous visit and the verified one are one viewer now
    expect(await audience()).toBe(audienceBefore);
    // the host's view agrees (the cached profile was reloaded from the store)
    const list = await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey);
    expect(list.status).toBe(200);
    expect(list.body.viewers.find((v: any) => v.id === 'dave')?.stats).toMatchObject({ comments: 1, likes: 1 });
    known.socket.close();

    // once: the same anonymous id again (another login) moves nothing, even to another viewer
    const anon2 = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_dave' });
    expect(await anon2.socket.emitWithAck('track', [{ id: eid(), type: 'like', ts: Date.now() }])).toMatchObject({ accepted: 1 });
    anon2.socket.close();
    const eveToken = await viewerToken(srv, stream.ingestKey, 'eve');
    const eve = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_dave', token: eveToken, alias: 'v_dave' });
    expect(eve.hello.viewerId).toBe('eve');
    // a track is answered only after the socket's alias ran: past this ack, whatever it moved is moved
    await eve.socket.emitWithAck('track', []);
    expect(await rows('SELECT 1 FROM events WHERE viewer_id = ?', 'eve')).toHaveLength(0);
    expect(await rows<{ viewer_id: string }>('SELECT viewer_id FROM viewer_aliases WHERE anon_id = ?', 'anon:v_dave')).toEqual([{ viewer_id: 'dave' }]);
    eve.socket.close();
  });

  it('an event stored while anonymous and resent at once after login (its ack lost in the reconnect) is stored and counted once', async () => {
    const anon = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_gina' });
    const comment = { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'is the blue one in stock?' } };
    expect(await anon.socket.emitWithAck('track', [comment])).toMatchObject({ accepted: 1 });
    anon.socket.close();
    // the SDK resends its unacknowledged queue as soon as the new socket connects, before `hello`
    const token = await viewerToken(srv, stream.ingestKey, 'gina');
    const known = client(srv, '/viewer', { streamId: stream.id, viewerId: 'v_gina', token, alias: 'v_gina' });
    const resent = known.emitWithAck('track', [comment, { id: eid(), type: 'like', ts: Date.now() }]);
    await connect(known);
    expect(await resent).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(await rows<{ viewer_id: string }>('SELECT viewer_id FROM events WHERE id = ?', comment.id)).toEqual([{ viewer_id: 'gina' }]);
    const [gina] = await rows<{ comments: number; likes: number }>('SELECT comments, likes FROM viewers WHERE channel = ? AND id = ?', 'collect-shop', 'gina');
    expect(gina).toEqual({ comments: 1, likes: 1 });
    known.close();
  });

  it('never aliases without a valid token', async () => {
    const anon = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_frank' });
    await anon.socket.emitWithAck('track', [{ id: eid(), type: 'like', ts: Date.now() }]);
    anon.socket.close();
    // anonymous with alias: ignored (nobody is verified)
    const other = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_mallory', alias: 'v_frank' });
    expect(other.hello.verified).toBe(false);
    await other.socket.emitWithAck('track', []); // past the alias, had there been one (see above)
    other.socket.close();
    expect(await rows('SELECT 1 FROM viewer_aliases WHERE anon_id = ?', 'anon:v_frank')).toHaveLength(0);
    expect(await rows('SELECT 1 FROM events WHERE viewer_id = ?', 'anon:v_frank')).toHaveLength(1);
  });
});
