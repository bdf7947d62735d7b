/**
 * The printable report page (/host/:streamId/report) in real Chromium, after a scripted stream:
 * three viewers, a funnel, purchases, a campaign of the host's own, a push with a holdout and a
 * poll. The page renders each section with the stream's real numbers, in English and in Chinese;
 * its strict Content-Security-Policy is never violated; axe-core's WCAG 2 A/AA rules find no
 * serious or critical violation in either language; under print media the buttons and forms are
 * gone. A wrong key gets the key form back with a clear message. Screenshots (desktop, phone,
 * print media at A4 width) and the PDFs Chromium prints are kept in test-results/screenshots/.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, createStream, viewerToken, connectViewer, closeAllClients, eid, client, connect, type TestServer, type StreamKeys } from '../helpers/server.js';
import { launch } from '../helpers/browser.js';
import { seriousViolations } from '../helpers/axe.js';

const SHOTS = path.resolve('test-results', 'screenshots');
const CHINESE = /[\u4e00-\u9fff]/;

let srv: TestServer;
let stream: StreamKeys;
let other: StreamKeys;
let browser: Browser;

const ev = (type: string, data?: Record<string, unknown>) => ({ id: eid(), type, ts: Date.now(), ...(data ? { data } : {}) });
const buy = (orderId: string, viewerId: string, amount: number) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY' }, stream.ingestKey);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  srv = await startServer();
  stream = await createStream(srv, { title: 'Spring tea live', channel: 'e2e-report', currency: 'CNY' });
  other = await createStream(srv, { title: 'Another stream', channel: 'e2e-report' });
  browser = await launch();

  const created = await srv.api(
    'POST',
    `/v1/streams/${stream.id}/campaigns`,
    {
      name: 'Thank our best viewers',
      trigger: { type: 'tier_entered', tier: 'high' },
      audience: { tiers: ['high'] },
      offer: { title: '10% off tonight', discount: { kind: 'percent', value: 10 }, ttlSeconds: 1800 },
      limits: { perViewer: 1 },
    },
    stream.hostKey,
  );
  expect(created.status).toBe(201);

  // alice views, carts, checks out and buys twice (high); bob buys once with no tracked checkout
  // (mid); carol only comments (potential)
  const alice = await connectViewer(srv, { streamId: stream.id, viewerId: 'a', token: await viewerToken(srv, stream.ingestKey, 'alice') });
  const bob = await connectViewer(srv, { streamId: stream.id, viewerId: 'b', token: await viewerToken(srv, stream.ingestKey, 'bob') });
  const carol = await connectViewer(srv, { streamId: stream.id, viewerId: 'carol' });
  await alice.socket.emitWithAck('track', [ev('product_view', { sku: 'TEA' }), ev('add_to_cart', { sku: 'TEA' }), ev('checkout', { amount: 120_000 })]);
  await bob.socket.emitWithAck('track', [ev('product_view', { sku: 'TEA' })]);
  await carol.socket.emitWithAck('track', [ev('comment', { text: 'lovely tea' })]);
  expect((await buy('r-b1', 'bob', 25_000)).status).toBe(201);
  expect((await buy('r-a1', 'alice', 60_000)).status).toBe(201);
  expect((await buy('r-a2', 'alice', 60_000)).status).toBe(201);

  const host = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
  await connect(host);
  expect(await host.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash deal', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 }, holdoutPercent: 10 })).toMatchObject({ held: expect.any(Number) });
  const poll = (await host.emitWithAck('poll:open', { question: 'Another round of tea?' })) as { id: string };
  await alice.socket.emitWithAck('track', [ev('poll_answer', { pollId: poll.id, value: 5 })]);
  await carol.socket.emitWithAck('track', [ev('poll_answer', { pollId: poll.id, value: 4 })]);
  host.close();
});

afterAll(async () => {
  closeAllClients();
  await browser?.close();
  await srv?.close();
});

interface Opened {
  page: Page;
  /** messages of Content-Security-Policy violations and page errors */
  problems: string[];
}

/** Opens the report with the host key in the fragment; resolves once it has rendered. */
async function openReport(lang: string, opts: { key?: string; wait?: boolean; width?: number } = {}): Promise<Opened> {
  const { key = stream.hostKey, wait = true, width = 1280 } = opts;
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  const res = await page.goto(`${srv.url}/host/${stream.id}/report?lang=${lang}#key=${encodeURIComponent(key)}`);
  expect(res!.status()).toBe(200);
  expect((await res!.allHeaders())['content-security-policy']).toContain("script-src 'self'");
  if (wait) await page.locator('#report[data-ready="true"]').waitFor({ timeout: 15_000 });
  return { page, problems };
}

const text = async (page: Page, sel: string) => (await page.locator(sel).first().textContent())?.replace(/\s+/g, ' ').trim();
const attr = (page: Page, sel: string, name: string) => page.locator(sel).first().getAttribute(name);

describe('the report page', () => {
  it('renders every section with the stream’s numbers while it is live (en)', async () => {
    const { page, problems } = await openReport('en');
    try {
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      expect(page.url()).not.toContain(stream.hostKey);
      expect(await page.title()).toBe('Spring tea live · LiveTier stream report');
      expect(await text(page, 'h1')).toBe('Spring tea live');
      expect(await text(page, '[data-meta="ended"] dd')).toBe('still live');
      expect(await text(page, '[data-meta="currency"] dd')).toBe('CNY');

      // summary: 3 viewers, 3 orders, ¥1,450 (alice 2 × ¥600, bob ¥250)
      expect(await attr(page, '[data-stat="audience"] dd', 'data-value')).toBe('3');
      expect(await attr(page, '[data-stat="orders"] dd', 'data-value')).toBe('3');
      expect(await text(page, '[data-stat="gmv"] dd')).toBe('¥1,450');
      expect(await text(page, '[data-stat="aov"] dd')).toBe('¥483.33');
      // KPIs: GPM = ¥1,450 × 1000 / 3, conversion 2 of 3
      expect(await text(page, '[data-section="kpis"] [data-stat="gpm"] dd')).toBe('¥483,333.33');
      expect(await text(page, '[data-section="kpis"] [data-stat="conversion"] dd')).toBe('66.7%');
      expect(await text(page, '[data-section="kpis"] [data-stat="newReturning"] dd')).toBe('3 / 0');

      // tiers, with who is watching now and their lifecycle while the stream is live
      for (const tier of ['high', 'mid', 'potential']) {
        expect(await attr(page, `[data-section="tiers"] tr[data-tier="${tier}"] td`, 'data-value')).toBe('1');
      }
      expect(await page.locator('[data-section="tiers"] td[data-now]').count()).toBe(3);
      expect(await attr(page, '[data-part="lifecycle"] tr[data-lifecycle="new"] td', 'data-value')).toBe('3');

      // the funnel: 3 → 2 → 2 → 2 → 2 (bob counted as having carted and checked out), no rate above 100%
      const counts = await page.locator('[data-part="funnel"] tbody tr td:nth-of-type(1)').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-count')));
      expect(counts).toEqual(['3', '2', '2', '2', '2']);
      const rates = await page.locator('[data-part="funnel"] td[data-rate]').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-rate'))));
      expect(rates.length).toBe(16);
      expect(rates.every((r) => r >= 0 && r <= 1)).toBe(true);
      expect(await text(page, '[data-part="funnel-note"]')).toBe('1 bought without a tracked checkout (counted as having reached checkout)');

      // campaigns (alice entering high fired ours) and the push, each with an uplift cell
      const listed = (await srv.api('GET', `/v1/streams/${stream.id}/campaigns?adhoc=false`, undefined, stream.hostKey)).body.campaigns as any[];
      const mine = listed.find((c) => c.name === 'Thank our best viewers');
      expect(mine.stats.issued + mine.stats.control).toBe(1);
      const ours = page.locator(`[data-part="campaigns"] tr[data-campaign="${mine.id}"]`);
      expect(await ours.locator('th').textContent()).toBe('Thank our best viewers');
      expect(await ours.locator('[data-stat="issued"]').textContent()).toBe(String(mine.stats.issued));
      expect(await ours.locator('[data-uplift]').count()).toBe(1);
      expect(await page.locator('[data-part="campaigns"] tbody tr').count()).toBe(listed.length);
      const push = page.locator('[data-section="pushes"] [part~="push-row"]');
      expect(await push.count()).toBe(1);
      expect(await push.textContent()).toContain('Flash deal');
      expect(await push.locator('[data-uplift]').count()).toBe(1);

      // top buyers and the poll
      expect(await page.locator('[data-part="buyers"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-buyer')))).toEqual(['alice', 'bob']);
      expect(await text(page, '[data-buyer="alice"] td:nth-of-type(3)')).toBe('¥1,200');
      const pollRow = page.locator('[data-part="polls"] tbody tr').first();
      expect(await pollRow.locator('th').textContent()).toBe('Another round of tea?');
      expect(await pollRow.locator('td[data-value]').getAttribute('data-value')).toBe('2');
      expect(await pollRow.textContent()).toContain('4.5');

      // the links: back to the dashboard, the same page in Chinese
      expect(await attr(page, '#dashboard-link', 'href')).toBe(`/host/${stream.id}?lang=en`);
      expect(await attr(page, '#lang-link', 'href')).toBe(`/host/${stream.id}/report?lang=zh-CN`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('after the stream ends: Chinese and English, screenshots, the printed PDF, print styles', async () => {
    expect((await srv.api('POST', `/v1/streams/${stream.id}/end`, undefined, stream.hostKey)).status).toBe(200);
    for (const lang of ['zh-CN', 'en']) {
      const { page, problems } = await openReport(lang);
      try {
        expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
        const sections = await page.locator('section[data-section]').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')));
        expect(sections).toEqual(['summary', 'kpis', 'tiers', 'funnel', 'campaigns', 'buyers', 'polls']);
        const headings = await page.locator('h2, h3').allTextContents();
        expect(headings.length).toBe(9);
        if (lang === 'zh-CN') {
          expect(headings.every((h) => CHINESE.test(h)), headings.join(' | ')).toBe(true);
          expect(await text(page, '[data-section="funnel"] h2')).toBe('转化漏斗');
          expect(await text(page, '#print')).toBe('打印 / 保存为 PDF');
          expect(await text(page, '[data-stat="gmv"] dt')).toBe('成交额');
          expect(await text(page, '[data-meta="started"] dd')).toMatch(/\d{4}年\d{1,2}月\d{1,2}日/);
        } else {
          expect(headings.some((h) => CHINESE.test(h))).toBe(false);
          expect(await text(page, '[data-section="funnel"] h2')).toBe('Funnel');
        }
        // ended: a date, no "watching now" column or lifecycle of the live audience
        expect(await text(page, '[data-meta="ended"] dd')).toMatch(/\d/);
        expect(await page.locator('[data-section="tiers"] td[data-now]').count()).toBe(0);
        expect(await text(page, '[data-stat="gmv"] dd')).toBe('¥1,450');

        await page.screenshot({ path: path.join(SHOTS, `report-${lang}.png`), fullPage: true });
        // as the print dialog sees it: no buttons, no forms, no toolbar; the sections all there
        await page.emulateMedia({ media: 'print' });
        expect(await page.locator('#print').isVisible()).toBe(false);
        expect(await page.locator('#toolbar').isVisible()).toBe(false);
        expect(await page.locator('[data-section="funnel"]').isVisible()).toBe(true);
        const color = await page.evaluate(() => [getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]);
        expect(color).toEqual(['rgb(0, 0, 0)', 'rgb(255, 255, 255)']);
        // the page as printed on A4 (210 mm at 96 dpi), for a person to look at
        await page.setViewportSize({ width: 794, height: 1123 });
        await page.screenshot({ path: path.join(SHOTS, `report-print-${lang}.png`), fullPage: true });
        const pdf = path.join(SHOTS, `report-${lang}.pdf`);
        await page.pdf({ path: pdf, format: 'A4', printBackground: false });
        expect(statSync(pdf).size).toBeGreaterThan(10_000);
        await page.emulateMedia({ media: 'screen' });
        expect(await page.locator('#print').isVisible()).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    }
  }, 90_000);

  // on a desktop and on a phone, where the wide tables scroll inside boxes the keyboard can reach
  for (const [lang, width] of [['en', 1280], ['zh-CN', 1280], ['en', 390], ['zh-CN', 390]] as const) {
    it(`passes axe-core (WCAG 2 A/AA) with no serious or critical violation (${lang}, ${width} px)`, async () => {
      const { page } = await openReport(lang, { width });
      try {
        const bad = await seriousViolations(page);
        expect(bad, bad.join('\n')).toEqual([]);
        // a box whose table is wider than it is a tab stop, and only such a box
        const boxes = await page.locator('.scroll').evaluateAll((els) => els.map((e) => [e.scrollWidth > e.clientWidth, e.getAttribute('tabindex') === '0']));
        expect(boxes.length).toBe(6); // tiers, funnel, campaigns, pushes, buyers, polls
        expect(boxes.every(([wide, focusable]) => wide === focusable), JSON.stringify(boxes)).toBe(true);
        if (width < 500) await page.screenshot({ path: path.join(SHOTS, `report-phone-${lang}.png`), fullPage: true });
      } finally {
        await page.close();
      }
    });
  }

  it('a wrong key is forgotten and asked for again with a clear message; the right one opens the report', async () => {
    const { page, problems } = await openReport('en', { key: 'lt_host_wrong', wait: false });
    try {
      await expect.poll(() => text(page, '#keyerror'), { timeout: 10_000 }).toBe('Wrong host key for this stream. Please check it and try again.');
      expect(await page.locator('#keyform').isVisible()).toBe(true);
      expect(await page.locator('#print').isVisible()).toBe(false);
      expect(await page.evaluate((k) => sessionStorage.getItem(k), `livetier:host-key:${stream.id}`)).toBeNull();
      // the key form is reachable by its label, in the page's language
      await page.getByLabel('Host key for this stream').fill(stream.hostKey);
      await page.locator('#keybutton').click();
      await page.locator('#report[data-ready="true"]').waitFor({ timeout: 15_000 });
      expect(await text(page, 'h1')).toBe('Spring tea live');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('another stream’s host key is refused in Chinese', async () => {
    const { page } = await openReport('zh-CN', { key: other.hostKey, wait: false });
    try {
      await expect.poll(() => text(page, '#keyerror'), { timeout: 10_000 }).toBe('该密钥属于另一场直播，请使用本场直播的主播密钥。');
      expect(await text(page, '#keylabel')).toBe('本场直播的主播密钥');
    } finally {
      await page.close();
    }
  });
});
