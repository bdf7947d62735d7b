/**
 * The SDK in real Chromium, on a streamer's page of another origin that pastes the snippet stub
 * and loads /livetier.js: no lost events offline, across a reload and when the page closes
 * (the beacon), and nothing at all before consent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, createStream, viewerToken, type TestServer, type StreamKeys } from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';
import { closeContext, launch, openSdkPage, queuedIds, startSite, trackComment, within } from '../helpers/browser.js';

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;
let site: Awaited<ReturnType<typeof startSite>>;

const STUB = `!function(l){l=window.LiveTier=window.LiveTier||{q:[]};'init track identify consent on flush close'.split(' ')
  .forEach(function(m){l[m]=l[m]||function(){l.q.push([m,arguments])}})}();`;

/** the streamer's page: the stub, an init (optionally with pending consent), the async script */
const page = (consent: 'granted' | 'pending') => () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop live</title>
<script>${STUB}
LiveTier.init({ server: '${srv.url}', stream: '${stream.id}', heartbeat: false, consent: '${consent}' });
LiveTier.track('product_view', { sku: 'EARLY-1' });
</script>
<script async src="${srv.url}/livetier.js"></script></head>
<body><h1>Live now</h1></body></html>`;

function storedEvents(): Promise<{ id: string; type: string; viewer_id: string; data: string | null }[]> {
  return withSql(srv, (q) => q.all('SELECT id, type, viewer_id, data FROM events WHERE stream_id = ?', stream.id));
}
const has = async (id: string) => (await storedEvents()).some((e) => e.id === id);
/** for each of `ids`, whether it is stored */
const storedOf = async (ids: string[]) => {
  const stored = new Set((await storedEvents()).map((e) => e.id));
  return ids.map((id) => stored.has(id));
};
const connected = async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.connected as number;

beforeAll(async () => {
  site = await startSite({ '/live': page('granted'), '/consent': page('pending') });
  srv = await startServer();
  stream = await createStream(srv, { title: 'SDK e2e', channel: 'sdk-e2e', allowedOrigins: [site.origin] });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await srv?.close();
});

const open = (context: BrowserContext, path = '/live') => openSdkPage(context, site.origin, path);
const track = trackComment;
const queued = queuedIds;

describe('no lost events', () => {
  it('the snippet stub queues calls made before the script loads', async () => {
    const context = await browser.newContext();
    const p = await open(context);
    await expect.poll(async () => (await storedEvents()).some((e) => e.type === 'product_view' && e.data?.includes('EARLY-1')), { timeout: 10_000 }).toBe(true);
    await context.close();
  });

  it('events tracked while offline arrive after the reconnect', async () => {
    const context = await browser.newContext();
    const p = await open(context);
    await expect.poll(connected, { timeout: 10_000 }).toBeGreaterThan(0);
    await context.setOffline(true);
    // the server drops the connection too, so the socket has to come back through the (offline) network
    srv.app.io.of('/viewer').disconnectSockets(true);
    await expect.poll(connected, { timeout: 10_000 }).toBe(0);
    const ids = [await track(p, 'offline 1'), await track(p, 'offline 2')];
    await p.waitForTimeout(1500);
    expect((await storedOf(ids)).some(Boolean)).toBe(false);
    expect(await queued(p)).toEqual(expect.arrayContaining(ids));

    await context.setOffline(false);
    await expect.poll(async () => (await storedOf(ids)).every(Boolean), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => queued(p), { timeout: 10_000 }).toEqual([]);
    await context.close();
  });

  it("events tracked while the server is unreachable arrive after a reload once the crashed tab's lease lapses", async () => {
    const context = await browser.newContext();
    // routed from the start (Playwright patches a page's WebSocket when it loads), open for now
    let blocked = false;
    await context.routeWebSocket(/\/socket\.io\//, (ws) => (blocked ? ws.close() : ws.connectToServer()));
    await context.route(/\/socket\.io\//, (route) => (blocked ? route.abort() : route.continue()));
    const p = await open(context);
    await expect.poll(connected, { timeout: 10_000 }).toBeGreaterThan(0);
    // the server becomes unreachable for this browser: no socket.io on either transport
    blocked = true;
    srv.app.io.of('/viewer').disconnectSockets(true);
    await expect.poll(connected, { timeout: 10_000 }).toBe(0);
    const ids = [await track(p, 'before reload 1'), await track(p, 'before reload 2')];
    expect(await queued(p)).toEqual(expect.arrayContaining(ids));
    // the tab crashes: no pagehide, no beacon, and its lease on the shared queue is never given up
    const cdp = await context.newCDPSession(p);
    const crashed = new Promise((r) => p.once('crash', r));
    void cdp.send('Page.crash').catch(() => {});
    await crashed;
    await new Promise((r) => setTimeout(r, 500));
    expect((await storedOf(ids)).some(Boolean)).toBe(false);
    blocked = false;
    // the page loaded again takes the lease over once it lapses, and sends the stored events
    await open(context);
    await expect.poll(async () => (await storedOf(ids)).every(Boolean), { timeout: 20_000 }).toBe(true);
    await context.close();
  });

  it('events tracked right before the page closes arrive through the beacon (POST /v1/collect)', async () => {
    const context = await within('new context', browser.newContext());
    const p = await open(context);
    await expect.poll(connected, { timeout: 10_000 }).toBeGreaterThan(0);
    const posts: string[] = [];
    const seen = (req: { method?: string; url?: string }) => {
      if (req.method === 'POST' && req.url === '/v1/collect') posts.push(req.url);
    };
    srv.app.server.on('request', seen);
    try {
      // tracked and gone before the 100 ms batching delay lets the socket send it; the navigation
      // starts right after this evaluate returns (a navigation inside it can lose the result)
      const id = await within('track, then leave', p.evaluate(() => {
        const id = (window as any).LiveTier.track('comment', { text: 'last words' }) as string;
        setTimeout(() => (location.href = 'about:blank'), 0);
        return id;
      }));
      await expect.poll(() => has(id), { timeout: 10_000 }).toBe(true);
      expect(posts.length).toBeGreaterThan(0);
      // let the navigation commit before closing: a close that races it can hang in Chromium
      await within('navigation commits', p.waitForURL('about:blank'));
    } finally {
      srv.app.server.off('request', seen);
    }
    await closeContext(context);
  });
});

describe('consent', () => {
  it('with consent pending nothing is sent or stored; consent(true) sends what was tracked', async () => {
    const context = await browser.newContext();
    const toServer: string[] = [];
    context.on('request', (r) => {
      if (r.url().startsWith(srv.url) && !r.url().includes('/livetier.js')) toServer.push(r.url());
    });
    const before = (await storedEvents()).length;
    const p = await open(context, '/consent');
    const id = await track(p, 'waiting for consent');
    await p.evaluate(() => document.dispatchEvent(new Event('visibilitychange'))); // no beacon either
    await p.waitForTimeout(1500);
    expect(toServer).toEqual([]);
    expect(await p.evaluate(() => localStorage.length)).toBe(0);
    expect(await p.evaluate(() => document.cookie)).toBe('');
    expect((await storedEvents()).length).toBe(before);
    expect(await connected()).toBe(0);

    await p.evaluate(() => (window as any).LiveTier.consent(true));
    await expect.poll(() => has(id), { timeout: 10_000 }).toBe(true);
    expect(await p.evaluate(() => localStorage.getItem('livetier:vid'))).toMatch(/^v_/);

    // refusing later forgets the stored id and the queue
    await p.evaluate(() => (window as any).LiveTier.consent(false));
    expect(await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('livetier:')))).toEqual([]);
    await context.close();
  });
});

describe('identify', () => {
  it("links the browser's anonymous history to the logged-in viewer", async () => {
    const context = await browser.newContext();
    const p = await open(context);
    const anonId = await p.evaluate(() => (window as any).LiveTier.client.viewerId as string);
    const before = await track(p, 'said before logging in');
    await expect.poll(() => has(before), { timeout: 10_000 }).toBe(true);
    expect((await storedEvents()).find((e) => e.id === before)?.viewer_id).toBe(`anon:${anonId}`);

    const token = await viewerToken(srv, stream.ingestKey, 'grace');
    const identity = p.evaluate(
      () => new Promise((resolve) => (window as any).LiveTier.on('identity', (i: unknown) => resolve(i))),
    );
    await p.evaluate((t) => (window as any).LiveTier.identify('grace', t), token);
    expect(await identity).toMatchObject({ viewerId: 'grace', verified: true });
    const after = await track(p, 'said after logging in');
    await expect.poll(() => has(after), { timeout: 10_000 }).toBe(true);
    const mine = (await storedEvents()).filter((e) => e.id === before || e.id === after);
    expect(mine.map((e) => e.viewer_id)).toEqual(['grace', 'grace']);
    await context.close();
  });
});
