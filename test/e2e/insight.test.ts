/**
 * What the channel's model tells the host (issue 15), in real Chromium and in both languages: a
 * channel with a history (30 buyers who buy every week, 60 who bought once months ago, imported
 * through POST /v1/purchases/batch with a stream made for the import) and three of its best buyers watching. After a fit, the host
 * panel lists viewers by predicted value, a viewer's detail shows their predicted value, and a
 * "Segments of buyers" card words each segment in the panel's language; the stream's report
 * carries the segments and the viewers by predicted value. axe-core finds no serious or critical
 * violation on either page with those sections. Screenshots go to test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServer, createStream, viewerToken, connectViewer, closeAllClients, until, type TestServer, type StreamKeys } from '../helpers/server.js';
import { launch } from '../helpers/browser.js';
import { seriousViolations } from '../helpers/axe.js';

const SHOTS = path.resolve('test-results', 'screenshots');
const CHINESE = /[\u4e00-\u9fff]/;
const CHANNEL = 'e2e-insight';
const DAY = 86_400_000;

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  srv = await startServer({ app: { models: { minBuyers: 20, refitMs: 0 } } });
  stream = await createStream(srv, { title: 'Tea club night', channel: CHANNEL, currency: 'CNY' });
  browser = await launch();
  const orders = [];
  for (let b = 0; b < 30; b++) {
    for (let w = 0; w < 12; w++) orders.push({ orderId: `w-${b}-${w}`, viewerId: `vip-${b}`, amount: 20_000 + b * 100, currency: 'CNY', at: Date.now() - (w * 7 + 1 + (b % 5)) * DAY });
  }
  for (let b = 0; b < 60; b++) orders.push({ orderId: `o-${b}`, viewerId: `once-${b}`, amount: 2_000 + b * 10, currency: 'CNY', at: Date.now() - (100 + b) * DAY });
  // the history comes in through a stream made for it (docs/configuration.md), so tonight's numbers stay tonight's
  const history = await createStream(srv, { title: 'History', channel: CHANNEL });
  for (let i = 0; i < orders.length; i += 1000) {
    const r = await srv.api('POST', '/v1/purchases/batch', { orders: orders.slice(i, i + 1000) }, history.ingestKey);
    expect(r.status).toBe(200);
  }
  for (const v of ['vip-0', 'vip-7', 'once-3']) await connectViewer(srv, { streamId: stream.id, viewerId: 'x', token: await viewerToken(srv, stream.ingestKey, v) });
  await srv.app.models.refit(CHANNEL);
  await until(async () => (await srv.api('GET', `/v1/streams/${stream.id}/model`, undefined, stream.hostKey)).body.status === 'fitted', 20_000, 'the model');
  const seg = (await srv.api('GET', `/v1/streams/${stream.id}/segments`, undefined, stream.hostKey)).body;
  expect(seg.k).toBeGreaterThanOrEqual(2);
}, 60_000);

afterAll(async () => {
  closeAllClients();
  await browser?.close();
  await srv?.close();
});

const squash = (s: string | null | undefined) => s?.replace(/\s+/g, ' ').trim();

describe('predicted value and segments', () => {
  for (const lang of ['zh-CN', 'en'] as const) {
    it(`the host panel lists viewers by predicted value, shows it in a viewer's detail, and words the segments (${lang})`, async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await page.goto(`${srv.url}/host/${stream.id}?lang=${lang}#key=${encodeURIComponent(stream.hostKey)}`);
        await page.locator('livetier-host-panel [part~="status"].live').waitFor({ timeout: 10_000 });
        const segments = page.locator('livetier-host-panel [data-section="segments"] li[data-segment]');
        await segments.first().waitFor({ timeout: 10_000 });
        expect(await segments.count()).toBeGreaterThanOrEqual(2);
        const heading = squash(await page.locator('livetier-host-panel [data-section="segments"] h3').textContent());
        const traits = squash(await segments.first().locator('.reasons').textContent())!;
        // the shares of the segments add up to all the buyers
        const shares = await segments.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-share'))));
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
        if (lang === 'zh-CN') {
          expect(heading).toBe('买家人群细分');
          expect(traits).toMatch(/^占买家 \d+%，贡献 GMV 的 \d+%/);
        } else {
          expect(heading).toBe('Segments of buyers');
          expect(traits).toMatch(/^\d+% of buyers, \d+% of GMV: /);
          expect(CHINESE.test(traits)).toBe(false);
        }

        // the watching buyers by predicted value: the weekly buyers first, the one-off buyer last
        const list = page.locator('livetier-host-panel [data-list="predicted"] [part~="viewer"]');
        await list.first().waitFor({ timeout: 10_000 });
        const ids = await list.evaluateAll((els) => els.map((e) => e.getAttribute('data-viewer')));
        expect(ids.slice(0, 2).sort()).toEqual(['vip-0', 'vip-7']);
        await list.first().click();
        const clv = page.locator('livetier-host-panel [data-part="predicted"] [data-predicted="clv365d"]');
        await clv.waitFor({ timeout: 10_000 });
        expect(squash(await clv.textContent())).toMatch(/^¥[\d,]+/);
        expect(squash(await page.locator('livetier-host-panel [data-part="predicted"] h4').textContent())).toBe(lang === 'zh-CN' ? '预测（未来 12 个月）' : 'Predicted (next 12 months)');
        await page.locator('livetier-host-panel [data-section="segments"]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(SHOTS, `host-insight-${lang}.png`), fullPage: true });
        const bad = await seriousViolations(page);
        expect(bad, bad.join('\n')).toEqual([]);
      } finally {
        await page.close();
      }
    }, 60_000);

    it(`the report carries the segments and the viewers by predicted value (${lang})`, async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await page.goto(`${srv.url}/host/${stream.id}/report?lang=${lang}#key=${encodeURIComponent(stream.hostKey)}`);
        await page.locator('#report[data-ready="true"]').waitFor({ timeout: 15_000 });
        const sections = await page.locator('section[data-section]').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')));
        expect(sections.slice(-2)).toEqual(['segments', 'predicted']);
        expect(await page.locator('[data-part="segments"] tbody tr').count()).toBeGreaterThanOrEqual(2);
        const rows = await page.locator('[data-part="predicted"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-viewer')));
        expect(rows.slice(0, 2).sort()).toEqual(['vip-0', 'vip-7']);
        const pAlive = Number(await page.locator('[data-part="predicted"] tr[data-viewer="vip-0"] td[data-value]').first().getAttribute('data-value'));
        expect(pAlive).toBeGreaterThan(0.5);
        const h2 = squash(await page.locator('[data-section="segments"] h2').textContent());
        const traits = squash(await page.locator('[data-part="segments"] tbody tr td').last().textContent())!;
        if (lang === 'zh-CN') {
          expect(h2).toBe('人群细分');
          expect(CHINESE.test(traits)).toBe(true);
        } else {
          expect(h2).toBe('Segments');
          expect(CHINESE.test(traits)).toBe(false);
        }
        await page.locator('[data-section="segments"]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(SHOTS, `report-insight-${lang}.png`), fullPage: true });
        const bad = await seriousViolations(page);
        expect(bad, bad.join('\n')).toEqual([]);
      } finally {
        await page.close();
      }
    }, 60_000);
  }
});
