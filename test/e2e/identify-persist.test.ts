/**
 * A pending identify survives the page closing (issue 19), in real Chromium: a page tracks
 * anonymously, calls identify() and is closed before its reconnect with the alias reaches the
 * server; the next page of the same site, logged in as that viewer, links the anonymous history.
 * Checked through the host's REST API: the anonymous events count under the verified viewer.
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
/** who the logged-in page (`/member`) renders into its init, as a site with a session would */
let member = { id: '', token: '' };

const STUB = `!function(l){l=window.LiveTier=window.LiveTier||{q:[]};'init track identify consent on flush close'.split(' ')
  .forEach(function(m){l[m]=l[m]||function(){l.q.push([m,arguments])}})}();`;

/** the streamer's page: the stub, an init (anonymous, or with the logged-in viewer), the async script */
const page = (loggedIn: boolean) => () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop live</title>
<script>${STUB}
LiveTier.init(${JSON.stringify({ server: srv.url, stream: stream.id, heartbeat: false, ...(loggedIn ? { viewerId: member.id, token: member.token } : {}) })});
</script>
<script async src="${srv.url}/livetier.js"></script></head>
<body><h1>Live now</h1></body></html>`;

beforeAll(async () => {
  site = await startSite({ '/live': page(false), '/member': page(true) });
  srv = await startServer();
  stream = await createStream(srv, { title: 'identify e2e', channel: 'identify-e2e', allowedOrigins: [site.origin] });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await srv?.close();
});

const open = (context: BrowserContext, path: string) => openSdkPage(context, site.origin, path);
const track = trackComment;
const queued = queuedIds;
const pendingAliases = (p: Page) => p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('livetier:alias:')));
const storedOf = async (ids: string[]) => {
  const rows: { id: string; viewer_id: string }[] = await withSql(srv, (q) => q.all('SELECT id, viewer_id FROM events WHERE stream_id = ?', stream.id));
  return ids.map((id) => rows.find((r) => r.id === id)?.viewer_id ?? null);
};
/** the host's view of a viewer: `{ status, comments, verified }` */
const viewer = async (id: string) => {
  const r = await srv.api('GET', `/v1/streams/${stream.id}/viewers/${encodeURIComponent(id)}`, undefined, stream.hostKey);
  return { status: r.status, comments: r.body?.stats?.comments as number | undefined, verified: r.body?.verified as boolean | undefined };
};

/**
 * A context whose socket.io traffic can be cut (both transports), routed from the start: Playwright
 * patches a page's WebSocket when it loads.
 */
async function blockable(): Promise<{ context: BrowserContext; block: (on: boolean) => void }> {
  const context = await within('new context', browser.newContext());
  let blocked = false;
  await context.routeWebSocket(/\/socket\.io\//, (ws) => (blocked ? ws.close() : ws.connectToServer()));
  await context.route(/\/socket\.io\//, (route) => (blocked ? route.abort() : route.continue()));
  return { context, block: (on) => (blocked = on) };
}

/**
 * Tracks two comments anonymously until the server acknowledged them, then logs `viewerId` in and
 * closes the tab at once. The reconnect with the alias never reaches the server: the socket is cut
 * first, which makes "closed before it completed" certain rather than a race.
 */
async function anonymousThenIdentifyAndClose(context: BrowserContext, block: (on: boolean) => void, viewerId: string, token: string) {
  const p = await open(context, '/live');
  const anonId = await p.evaluate(() => (window as any).LiveTier.client.viewerId as string);
  const ids = [await track(p, 'is the blue one in stock?'), await track(p, 'and in size M?')];
  await expect.poll(() => storedOf(ids), { timeout: 10_000 }).toEqual([`anon:${anonId}`, `anon:${anonId}`]);
  await expect.poll(() => queued(p), { timeout: 10_000 }).toEqual([]);

  block(true);
  await p.evaluate(([id, t]) => (window as any).LiveTier.identify(id, t), [viewerId, token] as const);
  await within('close the tab', p.close());
  block(false);

  // nothing linked yet: the anonymous viewer still has the comments, the verified one does not exist
  expect(await viewer(`anon:${anonId}`)).toMatchObject({ status: 200, comments: 2 });
  expect((await viewer(viewerId)).status).toBe(404);
  return anonId;
}

describe('a pending identify survives the page closing', () => {
  it('the next page, logged in as that viewer from the start, links the anonymous history', async () => {
    const { context, block } = await blockable();
    const token = await viewerToken(srv, stream.ingestKey, 'u_x');
    const anonId = await anonymousThenIdentifyAndClose(context, block, 'u_x', token);

    member = { id: 'u_x', token };
    const p = await open(context, '/member');
    await expect.poll(() => viewer('u_x'), { timeout: 10_000 }).toMatchObject({ status: 200, comments: 2, verified: true });
    expect((await viewer(`anon:${anonId}`)).status).toBe(404);
    // the server's hello answered the handshake that carried it: nothing is pending any more
    await expect.poll(() => pendingAliases(p), { timeout: 10_000 }).toEqual([]);
    await closeContext(context);
  });

  it('the next page that calls identify() again links it too', async () => {
    const { context, block } = await blockable();
    const token = await viewerToken(srv, stream.ingestKey, 'u_z');
    const anonId = await anonymousThenIdentifyAndClose(context, block, 'u_z', token);

    const p = await open(context, '/live');
    expect(await p.evaluate(() => (window as any).LiveTier.client.viewerId)).toBe(anonId);
    await p.evaluate((t) => (window as any).LiveTier.identify('u_z', t), token);
    await expect.poll(() => viewer('u_z'), { timeout: 10_000 }).toMatchObject({ status: 200, comments: 2, verified: true });
    expect((await viewer(`anon:${anonId}`)).status).toBe(404);
    await expect.poll(() => pendingAliases(p), { timeout: 10_000 }).toEqual([]);
    await closeContext(context);
  });
});
