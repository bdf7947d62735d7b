/**
 * Issue 6 over real sockets and a real SQLite file: the host's live dashboard data (funnel,
 * activity, trend, polls), the raw feed (wrong keys, slow consumers), viewers.csv and the report.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import WebSocket from 'ws';
import {
  startServer, createStream, viewerToken, connectViewer, client, connect, waitFor, collect, until, closeAllClients, eid, manualClock,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { csvCell } from '../../server/routes/reports.js';
import { feedLimits, FEED_MAX_BUFFERED_BYTES, FEED_SLOW_CLOSE_CODE } from '../../server/routes/feed.js';

let srv: TestServer;
let stream: StreamKeys;

beforeEach(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Dashboard', channel: 'dash-shop' });
});
afterEach(async () => {
  closeAllClients();
  feedLimits.maxBufferedBytes = FEED_MAX_BUFFERED_BYTES;
  await srv.close();
});

const buy = (orderId: string, viewerId: string, amount: number) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY' }, stream.ingestKey);
const ev = (type: string, data?: Record<string, unknown>) => ({ id: eid(), type, ts: Date.now(), ...(data ? { data } : {}) });

async function host(s = stream) {
  const h = client(srv, '/host', { streamId: s.id, hostKey: s.hostKey });
  const got = {
    funnel: collect<any>(h, 'funnel'),
    activity: collect<any[]>(h, 'activity'),
    trend: collect<any[]>(h, 'trend'),
    polls: collect<any>(h, 'poll:results'),
    updates: collect<any>(h, 'update'),
  };
  const snapshot = waitFor<any>(h, 'snapshot');
  await connect(h);
  return { socket: h, snapshot: await snapshot, ...got, items: () => got.activity.flat(), lastFunnel: () => got.funnel[got.funnel.length - 1] };
}

/** A scripted little stream: 3 viewers; one views and carts and checks out; one buys (verified). */
async function scriptedStream() {
  const aliceToken = await viewerToken(srv, stream.ingestKey, 'alice');
  const alice = await connectViewer(srv, { streamId: stream.id, viewerId: 'a1', token: aliceToken });
  const bob = await connectViewer(srv, { streamId: stream.id, viewerId: 'b1' });
  const carol = await connectViewer(srv, { streamId: stream.id, viewerId: 'c1' });
  expect((await alice.socket.emitWithAck('track', [ev('product_view', { sku: 'TEA' }), ev('add_to_cart', { sku: 'TEA' }), ev('checkout', { amount: 25_000 })])).accepted).toBe(3);
  expect((await bob.socket.emitWithAck('track', [ev('product_view', { sku: 'TEA' }), ev('comment', { text: '<b>hi</b> =1+1' })])).accepted).toBe(2);
  expect((await carol.socket.emitWithAck('track', [ev('like')])).accepted).toBe(1);
  expect((await buy('o-1', 'alice', 25_000)).status).toBe(201);
  return { alice, bob, carol };
}

describe('the host socket: funnel, activity, trend', () => {
  it('sends the funnel, the trend and the activity on connect, then follows the stream live', async () => {
    const h = await host();
    expect(h.funnel[0]).toMatchObject({ streamId: stream.id, viewers: 0, purchases: 0, orders: 0, gmv: 0, aov: 0 });
    expect(h.trend[0]).toHaveLength(1);
    expect(h.trend[0]![0]).toMatchObject({ connected: 0, high: 0, mid: 0, potential: 0 });
    expect(h.activity[0]).toEqual([]);

    await scriptedStream();
    await until(() => h.lastFunnel()?.purchases === 1 && h.lastFunnel()?.checkouts === 1, 5000, 'funnel with the purchase');
    expect(h.lastFunnel()).toMatchObject({ viewers: 3, productViews: 2, addToCarts: 1, checkouts: 1, purchases: 1, orders: 1, gmv: 25_000, aov: 25_000 });
    // alice is mid now: the per-tier funnel follows her current tier
    expect(h.lastFunnel().byTier.mid).toEqual({ viewers: 1, productViews: 1, addToCarts: 1, checkouts: 1, purchases: 1, boughtWithoutCheckout: 0 });
    expect(h.lastFunnel().byTier.potential).toEqual({ viewers: 2, productViews: 1, addToCarts: 0, checkouts: 0, purchases: 0, boughtWithoutCheckout: 0 });

    await until(() => h.items().some((i) => i.type === 'tier'), 5000, 'tier activity');
    const items = h.items();
    expect(items.find((i) => i.type === 'comment')).toMatchObject({ viewerId: 'anon:b1', text: '<b>hi</b> =1+1' });
    expect(items.find((i) => i.type === 'purchase')).toMatchObject({ viewerId: 'alice', orderId: 'o-1', amount: 25_000, currency: 'CNY' });
    expect(items.find((i) => i.type === 'tier')).toMatchObject({ viewerId: 'alice', from: 'potential', to: 'mid' });
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);

    await until(() => h.trend.flat().some((p) => p.mid === 1 && p.connected === 3), 5000, 'trend point');

    // a host connecting later gets the recent activity and the series at once
    const late = await host();
    expect(late.activity[0]!.map((i: any) => i.type)).toEqual(expect.arrayContaining(['comment', 'purchase', 'tier']));
    expect(late.funnel[0]).toMatchObject({ viewers: 3, purchases: 1 });
    expect(late.trend[0]!.length).toBeGreaterThanOrEqual(1);
    expect(late.trend[0]!.at(-1)).toMatchObject({ connected: 3, mid: 1, potential: 2 });
  });
});

describe('activity floods', () => {
  it('sends at most the newest 200 lines per update', async () => {
    const h = await host();
    const { hosts } = srv.app.realtime;
    for (let i = 0; i < 1000; i++) hosts.dashboard.addActivity(stream.id, { type: 'comment', at: Date.now(), viewerId: 'anon:flood', text: `#${i}` });
    hosts.changed(stream.id);
    await until(() => h.activity.length > 1, 5000, 'the batch');
    const batch = h.activity[1]!;
    expect(batch).toHaveLength(200);
    expect(batch.at(-1)).toMatchObject({ text: '#999' });
    expect(batch[0]).toMatchObject({ text: '#800' });
  });
});

describe('poll:open', () => {
  it('refuses a bad poll with a reason naming the field', async () => {
    const h = await host();
    expect(await h.socket.emitWithAck('poll:open', { question: '' })).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/^question /) } });
    expect(await h.socket.emitWithAck('poll:open', { question: 'ok?', seconds: 5 })).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/^seconds /) } });
    expect(await h.socket.emitWithAck('poll:open', 'nope')).toMatchObject({ error: { code: 'bad_request' } });
    expect(await h.socket.emitWithAck('poll:open', { question: 'x', extra: 1 })).toMatchObject({ error: { code: 'bad_request' } });
  });

  it("reaches the stream's viewers, counts one answer per viewer (the latest) and shows the host the results", async () => {
    const clock = manualClock();
    await srv.close();
    srv = await startServer({ clock });
    stream = await createStream(srv, { title: 'Poll', channel: 'poll-shop' });
    const other = await createStream(srv, { title: 'Other stream', channel: 'poll-shop' });
    const v1 = await connectViewer(srv, { streamId: stream.id, viewerId: 'p1' });
    const v2 = await connectViewer(srv, { streamId: stream.id, viewerId: 'p2' });
    const elsewhere = await connectViewer(srv, { streamId: other.id, viewerId: 'p3' });
    const polls1 = collect<any>(v1.socket, 'poll');
    const pollsElsewhere = collect<any>(elsewhere.socket, 'poll');
    const h = await host();

    const poll = await h.socket.emitWithAck('poll:open', { question: 'How is the tea?', seconds: 60 });
    expect(poll).toEqual({ id: expect.any(String), question: 'How is the tea?', scale: 5, closesAt: clock() + 60_000 });
    await until(() => polls1.length === 1, 5000, 'poll at the viewer');
    expect(polls1[0]).toEqual(poll);
    await until(() => h.polls.some((p) => p.id === poll.id), 5000, 'empty results');
    expect(h.polls.at(-1)).toMatchObject({ id: poll.id, answers: 0, counts: [0, 0, 0, 0, 0], average: null });

    const answer = (v: typeof v1, value: number) => v.socket.emitWithAck('track', [ev('poll_answer', { pollId: poll.id, value })]);
    expect((await answer(v1, 2)).accepted).toBe(1);
    expect((await answer(v1, 5)).accepted).toBe(1); // changed their mind: the latest counts
    expect((await answer(v2, 4)).accepted).toBe(1);
    await until(() => h.polls.at(-1)?.answers === 2, 5000, 'results');
    expect(h.polls.at(-1)).toMatchObject({ counts: [0, 0, 0, 1, 1], answers: 2, average: 4.5 });

    // after the poll closed, answers no longer count
    clock.advance(61_000);
    expect((await answer(v2, 1)).accepted).toBe(1);
    const report = await srv.api('GET', `/v1/streams/${stream.id}/report`, undefined, stream.hostKey);
    expect(report.body.polls).toEqual([
      { id: poll.id, question: 'How is the tea?', openedAt: clock() - 61_000, closesAt: poll.closesAt, counts: [0, 0, 0, 1, 1], answers: 2, average: 4.5 },
    ]);
    expect(pollsElsewhere).toEqual([]);
  });

  it('reaches a viewer who joins or reconnects while it is open, unless they answered it or it closed', async () => {
    const clock = manualClock();
    await srv.close();
    srv = await startServer({ clock });
    stream = await createStream(srv, { title: 'Late poll', channel: 'late-poll-shop' });
    /** connects a viewer and returns what it received up to a round trip after `hello`, in order */
    const join = async (viewerId: string, s = stream) => {
      const v = client(srv, '/viewer', { streamId: s.id, viewerId });
      const got: [string, any][] = [];
      v.onAny((event, payload) => got.push([event, payload]));
      const hello = waitFor(v, 'hello');
      await connect(v);
      await hello;
      await v.emitWithAck('track', []); // anything sent right after hello has arrived by now
      return { socket: v, got, polls: () => got.filter(([e]) => e === 'poll').map(([, p]) => p) };
    };
    expect((await join('early')).polls()).toEqual([]); // no poll yet
    const h = await host();
    const poll = await h.socket.emitWithAck('poll:open', { question: 'Tea or coffee?', seconds: 60 });

    const late = await join('late');
    expect(late.got.map(([e]) => e).slice(0, 2)).toEqual(['hello', 'poll']);
    expect(late.polls()).toEqual([poll]);
    const other = await createStream(srv, { title: 'Other', channel: 'late-poll-shop' });
    expect((await join('late', other)).polls()).toEqual([]); // another stream's viewers do not get it

    // answered: a reconnect does not ask again; not answered: it does
    expect((await late.socket.emitWithAck('track', [ev('poll_answer', { pollId: poll.id, value: 3 })])).accepted).toBe(1);
    late.socket.close();
    expect((await join('late')).polls()).toEqual([]);
    expect((await join('early')).polls()).toEqual([poll]);

    clock.advance(61_000);
    expect((await join('after-close')).polls()).toEqual([]);
  });
});

describe('the raw feed', () => {
  const feedUrl = (s: StreamKeys, key?: string) => `${srv.url.replace('http', 'ws')}/v1/streams/${s.id}/feed${key ? `?key=${encodeURIComponent(key)}` : ''}`;
  const upgradeStatus = (url: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => (resolve(101), ws.close()));
      ws.on('error', () => {});
    });

  it('refuses a wrong key at the upgrade: 401 for unknown keys, 403 for another stream\'s host key', async () => {
    const other = await createStream(srv, { title: 'Other' });
    expect(await upgradeStatus(feedUrl(stream))).toBe(401);
    expect(await upgradeStatus(feedUrl(stream, 'lt_host_wrong'))).toBe(401);
    expect(await upgradeStatus(feedUrl(stream), { authorization: 'Bearer lt_host_wrong' })).toBe(401);
    expect(await upgradeStatus(feedUrl(stream, stream.ingestKey))).toBe(401);
    expect(await upgradeStatus(feedUrl(stream, other.hostKey))).toBe(403);
    expect(await upgradeStatus(feedUrl({ ...stream, id: 'no-such-stream' }, 'lt_host_wrong'))).toBe(401);
    expect(await upgradeStatus(feedUrl({ ...stream, id: 'no-such-stream' }, stream.hostKey))).toBe(403);
    expect(await upgradeStatus(feedUrl(stream, stream.hostKey))).toBe(101);
  });

  it('sends the dashboard messages: snapshot, funnel, trend, activity, then live updates', async () => {
    const ws = new WebSocket(feedUrl(stream, stream.hostKey));
    const messages: any[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(String(m))));
    await until(() => messages.length >= 4, 5000, 'initial messages');
    expect(messages.slice(0, 4).map((m) => m.type)).toEqual(['snapshot', 'funnel', 'trend', 'activity']);
    await scriptedStream();
    await until(() => messages.some((m) => m.type === 'funnel' && m.purchases === 1), 5000, 'funnel in the feed');
    await until(() => messages.some((m) => m.type === 'activity' && m.items.some((i: any) => i.type === 'purchase')), 5000, 'activity in the feed');
    expect(messages.some((m) => m.type === 'update' && m.connected === 3)).toBe(true);
    ws.close();
  });

  it('drops a consumer that stops reading instead of buffering without bound, and keeps serving the others', async () => {
    feedLimits.maxBufferedBytes = 64 * 1024;
    // a consumer that upgrades and then never reads a byte
    const slow = net.connect(Number(new URL(srv.url).port), '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write(
      `GET /v1/streams/${stream.id}/feed?key=${encodeURIComponent(stream.hostKey)} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const head = await new Promise<string>((r) => slow.once('data', (d) => r(String(d))));
    expect(head).toMatch(/^HTTP\/1.1 101/);
    slow.pause();
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));

    const fast = new WebSocket(feedUrl(stream, stream.hostKey));
    let fastCount = 0;
    fast.on('message', () => fastCount++);
    await new Promise((r) => fast.once('open', r));

    // a flood of long lines in the activity feed (≈ 1 MB per update, straight into the dashboard):
    // megabytes for the slow consumer not to read
    const { hosts } = srv.app.realtime;
    const text = 'x'.repeat(5000);
    const feeds = () => [...((srv.app as any).websocketServer.clients as Set<WebSocket>)];
    expect(feeds()).toHaveLength(2);
    for (let round = 0; round < 200 && feeds().length > 1; round++) {
      for (let i = 0; i < 200; i++) hosts.dashboard.addActivity(stream.id, { type: 'comment', at: Date.now(), viewerId: 'anon:flood', text });
      hosts.changed(stream.id);
      await new Promise((r) => setTimeout(r, 300));
    }
    // the slow one is gone on the server; the fast one still gets messages
    expect(feeds()).toHaveLength(1);
    const before = fastCount;
    hosts.changed(stream.id);
    await until(() => fastCount > before, 5000, 'fast consumer still served');
    slow.resume();
    await until(() => slowClosed, 5000, 'slow socket closed');
    fast.close();
  });
});

describe('viewers.csv', () => {
  it('lists the stream\'s viewers with tier, lifecycle and stats, with formula-like values defused', async () => {
    await scriptedStream();
    const evilToken = await viewerToken(srv, stream.ingestKey, '@SUM-1');
    const minusToken = await viewerToken(srv, stream.ingestKey, '-2-3');
    await connectViewer(srv, { streamId: stream.id, viewerId: 'x', token: evilToken });
    await connectViewer(srv, { streamId: stream.id, viewerId: 'y', token: minusToken });

    const res = await fetch(`${srv.url}/v1/streams/${stream.id}/viewers.csv`, { headers: { authorization: `Bearer ${stream.hostKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await res.text()).split('\r\n');
    expect(lines.at(-1)).toBe('');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 3)).toEqual(['id', 'tier', 'lifecycle']);
    expect(header).toEqual(expect.arrayContaining(['purchases', 'spend', 'watch_seconds', 'comments', 'stream_checkouts']));
    const rows = lines.slice(1, -1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    expect(rows.map((r) => r.id)).toEqual(['alice', 'anon:b1', 'anon:c1', "'@SUM-1", "'-2-3"]);
    expect(rows[0]).toMatchObject({ tier: 'mid', lifecycle: 'new', verified: 'true', purchases: '1', spend: '25000', stream_checkouts: '1', stream_purchases: '1' });
    expect(rows[1]).toMatchObject({ tier: 'potential', verified: 'false', comments: '1', product_views: '1', purchases: '0' });
  });

  it('needs this stream\'s host key', async () => {
    const other = await createStream(srv, { title: 'Other' });
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers.csv`)).status).toBe(401);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers.csv`, undefined, 'lt_host_nope')).status).toBe(401);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/viewers.csv`, undefined, other.hostKey)).status).toBe(403);
    expect((await srv.api('GET', `/v1/streams/${stream.id}/report`, undefined, other.hostKey)).status).toBe(403);
  });

  it('escapes cells for spreadsheets', () => {
    expect(csvCell('=HYPERLINK("http://evil","click")')).toBe(`"'=HYPERLINK(""http://evil"",""click"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });
});

describe('the report', () => {
  it('summarises the stream: audience, peak, funnel with conversion, money, offers by campaign, top buyers', async () => {
    const h = await host();
    await scriptedStream();
    await until(() => h.updates.some((u) => u.connected === 3), 5000, 'three connected');
    const r = await srv.api('GET', `/v1/streams/${stream.id}/report`, undefined, stream.hostKey);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      streamId: stream.id,
      title: 'Dashboard',
      channel: 'dash-shop',
      audience: 3,
      connected: 3,
      peakConnected: 3,
      orders: 1,
      gmv: 25_000,
      aov: 25_000,
      funnel: {
        viewers: 3,
        productViews: 2,
        addToCarts: 1,
        checkouts: 1,
        purchases: 1,
        conversion: { productViews: 0.6667, addToCarts: 0.5, checkouts: 1, purchases: 1, overall: 0.3333 },
      },
      topBuyers: [{ viewerId: 'alice', orders: 1, spend: 25_000 }],
      polls: [],
    });
    expect(r.body.funnel.byTier.mid.purchases).toBe(1);
    // alice's first purchase issued the mid-tier deal
    expect(r.body.offers.issued).toBeGreaterThanOrEqual(1);
    expect(r.body.offers.byCampaign.reduce((n: number, c: any) => n + c.issued, 0)).toBe(r.body.offers.issued);
  });
});
