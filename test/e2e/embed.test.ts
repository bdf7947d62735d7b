/**
 * End to end in real Chromium: a streamer's page on another origin embeds /livetier.js; a host
 * push reaches the widget; the host panel shows the tiers and follows them live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, createStream, viewerToken, client, connect, closeAllClients, type TestServer, type StreamKeys } from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';
import { launch, startSite } from '../helpers/browser.js';

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;
let site: Awaited<ReturnType<typeof startSite>>;
let token: string;

const streamerPage = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>My shop's live stream</title>
<script src="${srv.url}/livetier.js" defer></script></head>
<body>
  <h1>My shop is live</h1>
  <livetier-widget server="${srv.url}" stream="${stream.id}" token="${token}"></livetier-widget>
  <script>document.addEventListener('livetier-error', (e) => (window.ltErrors ||= []).push(e.detail.code));</script>
</body></html>`;

// the host's own page on the streamer's origin, with the panel (REST calls cross-origin to the server)
const panelPage = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backstage</title>
<script src="${srv.url}/livetier.js" defer></script></head>
<body><livetier-host-panel server="${srv.url}" stream="${stream.id}" host-key="${stream.hostKey}"></livetier-host-panel></body></html>`;

const summary = async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body;
const offersOf = (viewerId: string) => withSql(srv, (q) => q.all<{ code: string; title: string }>('SELECT code, title FROM offers WHERE viewer_id = ?', viewerId));

beforeAll(async () => {
  site = await startSite({ '/live': () => streamerPage(), '/elsewhere': () => streamerPage(), '/backstage': () => panelPage() });
  srv = await startServer();
  stream = await createStream(srv, { title: 'E2E', channel: 'e2e-shop', allowedOrigins: [site.origin] });
  token = await viewerToken(srv, stream.ingestKey, 'wendy');
  browser = await launch();
});

afterAll(async () => {
  closeAllClients();
  await browser?.close();
  await site?.close();
  await srv?.close();
});

async function openStreamerPage(): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${site.origin}/live`);
  await expect.poll(async () => (await summary()).connected, { timeout: 10_000 }).toBe(1);
  return page;
}

describe('a streamer page on another origin', () => {
  it('embeds /livetier.js, connects, and shows a host push as an offer card with the viewer\'s own code', async () => {
    const page = await openStreamerPage();
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(host);
    const ack = await host.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash deal for you', discount: { kind: 'percent', value: 10 }, ttlSeconds: 300 } });
    expect(ack).toEqual({ sent: 1, held: 0, skipped: 0 });

    const card = page.locator('livetier-widget [part~="card"]').filter({ hasText: 'Flash deal for you' });
    await card.waitFor({ timeout: 10_000 });
    const code = (await card.locator('[part~="code"]').textContent())?.trim();
    const issued = (await offersOf('wendy')).find((o) => o.title === 'Flash deal for you');
    expect(code).toBe(issued?.code);
    expect(await card.textContent()).toMatch(/10\s?%/);
    // the widget acknowledged it: delivered
    await expect.poll(async () => (await summary()).offers.delivered, { timeout: 10_000 }).toBe(1);
    await page.close();
    await expect.poll(async () => (await summary()).connected, { timeout: 10_000 }).toBe(0);
  });

  it('the host panel shows the audience by tier and follows a purchase live', async () => {
    const viewer = await openStreamerPage();
    const hostPage = await browser.newPage();
    await hostPage.goto(`${srv.url}/host/${stream.id}#key=${encodeURIComponent(stream.hostKey)}`);
    const count = (tier: string) => hostPage.locator(`livetier-host-panel [data-tier="${tier}"]`).first();
    await expect.poll(async () => (await count('potential').textContent())?.match(/\d+/)?.[0], { timeout: 10_000 }).toBe('1');
    expect((await count('mid').textContent())?.match(/\d+/)?.[0]).toBe('0');

    const r = await srv.api('POST', '/v1/purchases', { orderId: 'e2e-1', viewerId: 'wendy', amount: 25_000, currency: 'CNY' }, stream.ingestKey);
    expect(r.status).toBe(201);
    await expect.poll(async () => (await count('mid').textContent())?.match(/\d+/)?.[0], { timeout: 10_000 }).toBe('1');
    expect((await count('potential').textContent())?.match(/\d+/)?.[0]).toBe('0');
    // and the mid-tier deal reached the viewer's widget
    await viewer.locator('livetier-widget [part~="card"]').filter({ hasText: /¥30|30/ }).first().waitFor({ timeout: 10_000 });
    // the host key never stays in the URL
    expect(hostPage.url()).not.toContain(stream.hostKey);
    await hostPage.close();
    await viewer.close();
  });

  it("the host panel on the streamer's own origin reads top viewers and campaigns over REST and pauses one", async () => {
    const page = await browser.newPage();
    const corsErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && /CORS/i.test(m.text()) && corsErrors.push(m.text()));
    await page.goto(`${site.origin}/backstage`);
    // wendy bought in the test above: she is a top viewer by value, read from /v1/streams/:id/viewers
    const wendy = page.locator('livetier-host-panel [part~="viewer"][data-viewer="wendy"]').first();
    await wendy.waitFor({ timeout: 10_000 });
    await wendy.click();
    await page.locator('livetier-host-panel [part~="card"][data-section="viewer"][data-viewer="wendy"]').waitFor({ timeout: 10_000 });
    // the default campaigns, and Pause (a PATCH, preflighted) takes effect on the server
    const row = page.locator('livetier-host-panel [part~="campaign"][data-status="active"]').first();
    await row.waitFor({ timeout: 10_000 });
    const id = await row.getAttribute('data-campaign');
    await row.locator('[part~="toggle"]').click();
    await expect.poll(async () => (await srv.api('GET', `/v1/streams/${stream.id}/campaigns/${id}`, undefined, stream.hostKey)).body.status, { timeout: 10_000 }).toBe('paused');
    const paused = page.locator(`livetier-host-panel [part~="campaign"][data-campaign="${id}"][data-status="paused"]`);
    await paused.waitFor({ timeout: 10_000 });
    await paused.locator('[part~="toggle"]').click(); // resume: leave the stream as it was
    await expect.poll(async () => (await srv.api('GET', `/v1/streams/${stream.id}/campaigns/${id}`, undefined, stream.hostKey)).body.status, { timeout: 10_000 }).toBe('active');
    expect(corsErrors).toEqual([]);
    await page.close();
  });

  it('a page from an origin the stream does not allow cannot connect', async () => {
    const other = await browser.newPage();
    // same site server, but reached as 127.0.0.1: another origin than the allowed localhost one
    await other.goto(`http://127.0.0.1:${site.port}/elsewhere`);
    await expect.poll(() => other.evaluate(() => (window as any).ltErrors ?? []), { timeout: 10_000 }).toContain('origin_not_allowed');
    expect((await summary()).connected).toBe(0);
    await other.close();
  });
});
