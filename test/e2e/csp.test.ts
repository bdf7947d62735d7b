/**
 * The widget and the host panel under a strict Content-Security-Policy in real Chromium: scripts
 * only from the LiveTier server (no 'unsafe-inline', no 'unsafe-eval'), connections only to it.
 * Everything works, nothing is reported as a violation, and text a merchant typed renders as
 * text, never as HTML.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, createStream, viewerToken, client, connect, closeAllClients, type TestServer, type StreamKeys } from '../helpers/server.js';
import { launch, startSite } from '../helpers/browser.js';

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;
let strict: Awaited<ReturnType<typeof startSite>>;
let panelSite: Awaited<ReturnType<typeof startSite>>;
let token: string;

/** No inline script, no eval, scripts and connections only to the LiveTier server; `styles` says where styles may come from. */
const policy = (styles: string) =>
  [
    "default-src 'none'",
    `script-src ${srv.url}`,
    `connect-src ${srv.url} ${srv.url.replace('http', 'ws')}`,
    `style-src ${styles}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

const widgetPage = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strict shop</title>
<script src="${srv.url}/livetier.js" defer></script></head>
<body>
  <h1>Strict shop is live</h1>
  <livetier-widget server="${srv.url}" stream="${stream.id}" token="${token}"></livetier-widget>
</body></html>`;

const panelPage = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strict host</title>
<script src="${srv.url}/livetier.js" defer></script></head>
<body><livetier-host-panel server="${srv.url}" stream="${stream.id}" host-key="${stream.hostKey}"></livetier-host-panel></body></html>`;

beforeAll(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'CSP', channel: 'e2e-csp' });
  token = await viewerToken(srv, stream.ingestKey, 'carla');
  // the policies name the server's origin, known once it listens
  strict = await startSite({ '/live': () => widgetPage() }, { 'content-security-policy': policy(srv.url) });
  panelSite = await startSite({ '/host': () => panelPage() }, { 'content-security-policy': policy(srv.url) });
  browser = await launch();
});

afterAll(async () => {
  closeAllClients();
  await browser?.close();
  await strict?.close();
  await panelSite?.close();
  await srv?.close();
});

async function open(url: string) {
  const p: Page = await browser.newPage();
  const violations: string[] = [];
  const errors: string[] = [];
  p.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  p.on('pageerror', (err) => errors.push(err.message));
  const response = await p.goto(url);
  expect((await response!.allHeaders())['content-security-policy']).toContain(`script-src ${srv.url};`);
  return { p, violations, errors };
}

const connected = () => srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey).then((r) => r.body.connected);

describe('pages with a strict Content-Security-Policy', () => {
  it('the widget works with no violation (styles only from the server, no inline script or style) and shows typed text as text', async () => {
    const { p, violations, errors } = await open(`${strict.origin}/live`);
    await expect.poll(connected, { timeout: 15_000 }).toBe(1);
    // a push whose title is HTML: the card shows it literally and runs nothing
    const title = '<img src=x onerror="window.pwned=1">Deal<b>!</b>';
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(host);
    expect(await host.emitWithAck('push', { tier: 'potential', offer: { title, discount: { kind: 'percent', value: 10 }, ttlSeconds: 300 } })).toMatchObject({ sent: 1 });
    const card = p.locator('livetier-widget [part~="card"]').first();
    await card.waitFor({ timeout: 15_000 });
    expect(await card.locator('[part~="title"]').textContent()).toContain(title);
    expect(await card.locator('img, b').count()).toBe(0);
    expect(await p.evaluate(() => (window as any).pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    await p.close();
    await expect.poll(connected, { timeout: 10_000 }).toBe(0);
  });

  it('the host panel (loaded on demand by /livetier.js) works with no inline script or style and no eval', async () => {
    const viewer = await open(`${strict.origin}/live`);
    await expect.poll(connected, { timeout: 15_000 }).toBe(1);
    const { p, violations, errors } = await open(`${panelSite.origin}/host`);
    const potential = p.locator('livetier-host-panel [data-tier="potential"]').first();
    await expect.poll(async () => (await potential.textContent())?.match(/\d+/)?.[0], { timeout: 15_000 }).toBe('1');
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    await p.close();
    await viewer.p.close();
  });
});
