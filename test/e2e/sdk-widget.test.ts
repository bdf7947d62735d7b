/**
 * <livetier-widget> in real Chromium on a streamer's page of another origin: the countdown ticks
 * and an expired offer leaves, Chinese labels, a keyboard-only copy of a code, pinned products,
 * a poll the host opens. Screenshots of both languages go to test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, createStream, client, connect, closeAllClients, type TestServer, type StreamKeys } from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';
import { launch, startSite } from '../helpers/browser.js';

const SHOTS = 'test-results/screenshots';

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;
let context: BrowserContext;
let site: Awaited<ReturnType<typeof startSite>>;

const page = (lang: string) => () => `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>Shop live</title>
<script src="${srv.url}/livetier.js" defer></script>
<style>body { font-family: sans-serif; max-width: 420px; margin: 16px; background: #f4f4f5; }</style></head>
<body>
  <button id="before">Before the widget</button>
  <livetier-widget server="${srv.url}" stream="${stream.id}">
    <livetier-product sku="TEA-01" name="${lang === 'en' ? 'Oolong tea' : '乌龙茶'}" price="12900"></livetier-product>
    <livetier-product sku="CUP-02" name="${lang === 'en' ? 'Tea cup' : '茶杯'}" price="4950"></livetier-product>
  </livetier-widget>
  <script>
    for (const type of ['livetier-offer-click', 'livetier-add-to-cart', 'livetier-poll-answer'])
      document.addEventListener(type, (e) => (window.ltEvents ||= []).push({ type, detail: e.detail }));
  </script>
</body></html>`;

function events(type: string): Promise<{ id: string; data: string | null }[]> {
  return withSql(srv, (q) => q.all('SELECT id, data FROM events WHERE stream_id = ? AND type = ?', stream.id, type));
}
const connected = async () => (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body.connected as number;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  site = await startSite({ '/en': page('en'), '/zh': page('zh-CN') });
  srv = await startServer();
  stream = await createStream(srv, { title: 'Widget e2e', channel: 'widget-e2e', allowedOrigins: [site.origin] });
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 460, height: 720 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site.origin });
});

afterAll(async () => {
  closeAllClients();
  await context?.close();
  await browser?.close();
  await site?.close();
  await srv?.close();
});

async function open(path: string): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (err) => console.error('page error:', err.message));
  await p.goto(`${site.origin}${path}`);
  await p.waitForFunction(() => !!document.querySelector('livetier-widget')?.client);
  return p;
}

/** shows an offer through the element's public method, expiring `seconds` from now */
const showOffer = (p: Page, id: string, seconds: number, over: Record<string, unknown> = {}) =>
  p.evaluate(
    ([id, seconds, over]) => {
      const now = Date.now();
      document.querySelector('livetier-widget')!.addOffer({
        id,
        code: 'TEA8PZK3QM',
        title: 'Flash deal',
        discount: { kind: 'percent', value: 15 },
        minSpend: 19900,
        currency: 'CNY',
        expiresAt: now + seconds * 1000,
        serverNow: now,
        campaign: 'push:e2e',
        ...over,
      });
    },
    [id, seconds, over] as const,
  );

describe('<livetier-widget> in Chromium', () => {
  it('ticks the countdown and lets an offer leave when it expires', async () => {
    const p = await open('/en');
    await showOffer(p, 'short', 4);
    const card = p.locator('livetier-widget [part~="card"][data-offer-id="short"]');
    const timer = card.locator('[part~="timer"]');
    await expect.poll(() => timer.textContent(), { timeout: 5000 }).toMatch(/Ends in 00:0[34]/);
    const first = await timer.textContent();
    await expect.poll(() => timer.textContent(), { timeout: 5000 }).not.toBe(first);
    expect(await timer.textContent()).toMatch(/^Ends in 00:0[0-3]$/);
    await card.waitFor({ state: 'detached', timeout: 10_000 });
    await p.close();
  });

  it('shows English and Chinese labels, with money formatted by Intl (screenshots kept)', async () => {
    const en = await open('/en');
    await showOffer(en, 'en-1', 600);
    await showOffer(en, 'en-2', 900, { title: 'Thank-you gift', discount: { kind: 'amount', value: 3000 }, minSpend: 9900 });
    const enCard = en.locator('livetier-widget [data-offer-id="en-1"]');
    await enCard.waitFor();
    expect(await enCard.textContent()).toMatch(/15% off[\s\S]*Min\. spend ¥199[\s\S]*Copy[\s\S]*Shop now/);
    expect(await en.locator('livetier-widget [part~="add"]').first().textContent()).toMatch(/Add to cart/);
    expect(await en.locator('livetier-widget [part~="price"]').allTextContents()).toEqual(['¥129', '¥49.50']);
    // an offer with a Chinese translation: the English page shows the offer's own text
    const bilingual = { title: 'Flash deal', description: 'Tonight only', i18n: { 'zh-CN': { title: '限时特惠', description: '仅限今晚' } } };
    await showOffer(en, 'en-3', 900, bilingual);
    expect(await en.locator('livetier-widget [data-offer-id="en-3"] [part~="title"]').textContent()).toBe('Flash deal');
    await en.screenshot({ path: `${SHOTS}/widget-en.png`, fullPage: true });

    const zh = await open('/zh');
    await showOffer(zh, 'zh-1', 600);
    await showOffer(zh, 'zh-2', 900, { title: '感谢有你', discount: { kind: 'amount', value: 3000 }, minSpend: 9900 });
    const zhCard = zh.locator('livetier-widget [data-offer-id="zh-1"]');
    await zhCard.waitFor();
    expect(await zhCard.locator('[part~="discount"]').textContent()).toBe('8.5折');
    expect(await zhCard.locator('[part~="copy"]').textContent()).toMatch(/复制/);
    expect(await zhCard.locator('[part~="use"]').textContent()).toBe('去使用');
    expect(await zhCard.locator('[part~="timer"]').textContent()).toMatch(/^剩余 \d\d:\d\d$/);
    expect(await zhCard.textContent()).toContain('满¥199可用');
    expect(await zh.locator('livetier-widget [data-offer-id="zh-2"] [part~="discount"]').textContent()).toBe('立减¥30');
    // …and the Chinese page its translation
    await showOffer(zh, 'zh-3', 900, bilingual);
    expect(await zh.locator('livetier-widget [data-offer-id="zh-3"] [part~="title"]').textContent()).toBe('限时特惠');
    expect(await zh.locator('livetier-widget [data-offer-id="zh-3"] [part~="description"]').textContent()).toBe('仅限今晚');
    expect(await zh.locator('livetier-widget [part~="add"]').first().textContent()).toMatch(/加入购物车/);
    await zh.screenshot({ path: `${SHOTS}/widget-zh-CN.png`, fullPage: true });
    await en.close();
    await zh.close();
  });

  it('copies a code with the keyboard alone, and tracks offer_click', async () => {
    const p = await open('/en');
    await showOffer(p, 'kbd', 600);
    await p.locator('livetier-widget [data-offer-id="kbd"]').waitFor();
    await p.focus('#before');
    // Tab through the page until the Copy button has the focus (inside the shadow root)
    const focused = () => p.evaluate(() => document.querySelector('livetier-widget')!.shadowRoot!.activeElement?.getAttribute('part') ?? null);
    for (let i = 0; i < 10 && (await focused()) !== 'copy'; i++) await p.keyboard.press('Tab');
    expect(await focused()).toBe('copy');
    // the focus is visible: a real outline on the focused button
    const outline = await p.evaluate(() => getComputedStyle(document.querySelector('livetier-widget')!.shadowRoot!.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await p.keyboard.press('Enter');
    await expect.poll(() => p.evaluate(() => navigator.clipboard.readText()), { timeout: 5000 }).toBe('TEA8PZK3QM');
    expect(await p.locator('livetier-widget [part~="copy"]').textContent()).toMatch(/Copied/);
    await expect.poll(async () => (await events('offer_click')).some((e) => e.data?.includes('"kbd"')), { timeout: 10_000 }).toBe(true);
    await p.close();
  });

  it('animates a new card, except under prefers-reduced-motion', async () => {
    const p = await open('/en');
    const animation = async (id: string) => {
      await showOffer(p, id, 600);
      const card = p.locator(`livetier-widget [data-offer-id="${id}"]`);
      await card.waitFor();
      return card.evaluate((el) => getComputedStyle(el).animationName);
    };
    expect(await animation('moving')).not.toBe('none');
    await p.emulateMedia({ reducedMotion: 'reduce' });
    expect(await animation('still')).toBe('none');
    await p.close();
  });

  it('pinned products track product_view, and add-to-cart tracks and tells the page', async () => {
    const p = await open('/en');
    await expect.poll(async () => (await events('product_view')).map((e) => JSON.parse(e.data!).sku).sort(), { timeout: 10_000 }).toEqual(
      expect.arrayContaining(['CUP-02', 'TEA-01']),
    );
    await p.locator('livetier-widget [data-sku="TEA-01"] [part~="add"]').click();
    const detail = await p.evaluate(() => (window as any).ltEvents.find((e: any) => e.type === 'livetier-add-to-cart')?.detail);
    expect(detail).toEqual({ product: { sku: 'TEA-01', name: 'Oolong tea', price: 12900 }, quantity: 1 });
    await expect.poll(async () => (await events('add_to_cart')).map((e) => JSON.parse(e.data!)), { timeout: 10_000 }).toContainEqual({ sku: 'TEA-01', price: 12900, quantity: 1 });

    await showOffer(p, 'shop', 600);
    await p.locator('livetier-widget [data-offer-id="shop"] [part~="use"]').click();
    const click = await p.evaluate(() => (window as any).ltEvents.find((e: any) => e.type === 'livetier-offer-click')?.detail);
    expect(click.offer.id).toBe('shop');
    await p.close();
  });

  it('shows a poll the host opens and records the answer as poll_answer', async () => {
    const p = await open('/en');
    await expect.poll(connected, { timeout: 10_000 }).toBeGreaterThan(0);
    const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(host);
    const opened = await host.emitWithAck('poll:open', { question: 'How do you like this stream?', seconds: 60 });
    expect(opened).toMatchObject({ id: expect.any(String), scale: 5 });
    const poll = p.locator('livetier-widget [part~="poll"]');
    await poll.waitFor({ timeout: 10_000 });
    expect(await poll.locator('[part~="question"]').textContent()).toBe('How do you like this stream?');
    expect(await poll.locator('[part~="rating"]').count()).toBe(5);
    await poll.locator('[part~="rating"]').nth(3).click();
    await expect.poll(async () => (await events('poll_answer')).map((e) => JSON.parse(e.data!)), { timeout: 10_000 }).toContainEqual({ pollId: opened.id, value: 4 });
    expect(await poll.textContent()).toMatch(/Thanks/);
    await p.close();
  });
});
