/**
 * The channel page (/channel/:channel) in real Chromium, after a scripted channel of two streams
 * (the first ended, the second live): alice buys twice and bob once in the first, where a campaign
 * holds half its viewers back; in the second
 * bob buys again (up to high), alice's second order is refunded (down to mid) and dave is new.
 * The page shows the streams compared and the viewers by tier with the overview's numbers, in
 * English and in Chinese, under its strict Content-Security-Policy with no violation; axe-core's
 * WCAG 2 A/AA rules find no serious or critical violation on a desktop or a phone in either
 * language. The channel's read-only key opens it; a wrong key and another channel's key get the
 * key form back with a message saying why. Screenshots go to test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, createStream, viewerToken, connectViewer, closeAllClients, client, connect, until, ADMIN_KEY, type TestServer, type StreamKeys } from '../helpers/server.js';
import { launch } from '../helpers/browser.js';
import { seriousViolations } from '../helpers/axe.js';
import { armOf } from '../../server/offers/rules.js';

const SHOTS = path.resolve('test-results', 'screenshots');
const CHINESE = /[\u4e00-\u9fff]/;
const CHANNEL = 'e2e-tea';

let srv: TestServer;
let s1: StreamKeys;
let s2: StreamKeys;
let channelKey: string;
let otherKey: string;
let browser: Browser;

const buy = (s: StreamKeys, orderId: string, viewerId: string, amount: number) =>
  srv.api('POST', '/v1/purchases', { orderId, viewerId, amount, currency: 'CNY' }, s.ingestKey);
const rotate = async (channel: string) => (await srv.api('POST', `/v1/channels/${channel}/keys/rotate`, {}, ADMIN_KEY)).body.channelKey as string;

async function watch(s: StreamKeys, ...viewers: string[]) {
  for (const v of viewers) await connectViewer(srv, { streamId: s.id, viewerId: 'x', token: await viewerToken(srv, s.ingestKey, v) });
}

async function tiersAre(want: Record<string, string>) {
  await until(
    async () => (await Promise.all(Object.entries(want).map(async ([v, t]) => (await srv.app.store.getViewer(CHANNEL, v))?.tier === t))).every(Boolean),
    10_000,
    `tiers ${JSON.stringify(want)}`,
  );
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  srv = await startServer();
  s1 = await createStream(srv, { title: 'Spring tea, part 1', channel: CHANNEL, id: 'e2e-tea-1', currency: 'CNY' });
  await createStream(srv, { title: 'Elsewhere', channel: 'e2e-other' });
  channelKey = await rotate(CHANNEL);
  otherKey = await rotate('e2e-other');
  browser = await launch();

  await watch(s1, 'alice', 'bob', 'carol');
  // who a campaign holds back follows from its id (offers/rules.ts armOf), and a created one's id is
  // random: this one's is chosen so that it holds back some of the three viewers and not all
  let id = '';
  for (let i = 0; !id; i++) {
    const arms = ['alice', 'bob', 'carol'].map((v) => armOf(s1.id, `half-held-back-${i}`, v, 50));
    if (arms.includes('control') && arms.includes('treatment')) id = `half-held-back-${i}`;
  }
  await srv.app.engine.campaigns.create((await srv.app.store.getStream(s1.id))!, {
    name: 'Half held back', trigger: { type: 'manual' }, holdoutPercent: 50,
    offer: { title: '¥5 off', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 },
  }, { id });
  expect((await srv.api('POST', `/v1/streams/${s1.id}/campaigns/${id}/send`, undefined, s1.hostKey)).status).toBe(200);
  expect((await buy(s1, 'c1-a1', 'alice', 60_000)).status).toBe(201);
  expect((await buy(s1, 'c1-a2', 'alice', 60_000)).status).toBe(201);
  expect((await buy(s1, 'c1-b1', 'bob', 25_000)).status).toBe(201);
  await tiersAre({ alice: 'high', bob: 'mid', carol: 'potential' });
  const host = client(srv, '/host', { streamId: s1.id, hostKey: s1.hostKey });
  await connect(host); // the dashboard samples the audience: a peak of 3
  expect((await srv.api('POST', `/v1/streams/${s1.id}/end`, undefined, s1.hostKey)).body.ended).toBe(true);
  closeAllClients();

  s2 = await createStream(srv, { title: 'Spring tea, part 2', channel: CHANNEL, id: 'e2e-tea-2' });
  await watch(s2, 'alice', 'bob', 'carol', 'dave');
  expect((await buy(s2, 'c2-b1', 'bob', 80_000)).status).toBe(201);
  expect((await srv.api('POST', '/v1/refunds', { orderId: 'c1-a2' }, s2.ingestKey)).status).toBe(200);
  expect((await buy(s2, 'c2-d1', 'dave', 30_000)).status).toBe(201);
  await tiersAre({ alice: 'mid', bob: 'high', carol: 'potential', dave: 'mid' });
}, 60_000);

afterAll(async () => {
  closeAllClients();
  await browser?.close();
  await srv?.close();
});

/** Opens the page with `key` in the fragment; resolves once it has rendered (unless `wait` is false). */
async function openPage(lang: string, opts: { key?: string; wait?: boolean; width?: number } = {}) {
  const { key = channelKey, wait = true, width = 1280 } = opts;
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  const res = await page.goto(`${srv.url}/channel/${CHANNEL}?lang=${lang}#key=${encodeURIComponent(key)}`);
  expect(res!.status()).toBe(200);
  expect((await res!.allHeaders())['content-security-policy']).toContain("script-src 'self'");
  if (wait) await page.locator('#overview[data-ready="true"]').waitFor({ timeout: 15_000 });
  return { page, problems };
}

const text = async (page: Page, sel: string) => (await page.locator(sel).first().textContent())?.replace(/\s+/g, ' ').trim();
const value = (page: Page, sel: string) => page.locator(sel).first().getAttribute('data-value');

describe('the channel page', () => {
  it("shows the channel's streams compared and its viewers by tier, with the overview's numbers (en)", async () => {
    const { page, problems } = await openPage('en');
    try {
      expect(page.url()).not.toContain(channelKey);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      expect(await page.title()).toBe(`${CHANNEL} · LiveTier channel overview`);
      expect(await text(page, 'h1')).toBe(CHANNEL);
      const sections = await page.locator('section[data-section]').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')));
      expect(sections).toEqual(['tiers', 'streams', 'tier-table', 'charts']);

      // newest first: the live stream, then the ended one
      const rows = page.locator('[data-part="streams"] tbody tr');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-stream')))).toEqual(['e2e-tea-2', 'e2e-tea-1']);
      const live = '[data-part="streams"] tr[data-stream="e2e-tea-2"]';
      const ended = '[data-part="streams"] tr[data-stream="e2e-tea-1"]';
      expect(await text(page, `${live} th`)).toBe('Spring tea, part 2 live');
      // stream 2: ¥800 + ¥300 from 4 viewers, 2 buyers, 3 of them known to the channel
      expect(await value(page, `${live} [data-col="audience"]`)).toBe('4');
      expect(await text(page, `${live} [data-col="gmv"]`)).toBe('¥1,100');
      expect(await text(page, `${live} [data-col="conversion"]`)).toBe('50%');
      expect(await text(page, `${live} [data-col="returningShare"]`)).toBe('75%');
      // stream 1: ¥1,450 less the ¥600 refunded later, 3 viewers, a peak of 3, no returning viewer
      expect(await text(page, `${ended} [data-col="gmv"]`)).toBe('¥850');
      expect(await value(page, `${ended} [data-col="peak"]`)).toBe('3');
      expect(await value(page, `${ended} [data-col="orders"]`)).toBe('3');
      expect(await text(page, `${ended} [data-col="returningShare"]`)).toBe('0%');
      // the first stream's campaign held viewers back: its uplift cell; the live one has none, and says so
      expect(await page.locator(`${ended} [data-col="uplift"] [data-uplift]`).count()).toBe(1);
      expect(await text(page, `${live} [data-col="uplift"]`)).toBe('no campaign held viewers back');

      // the channel's viewers now (bob high; alice and dave mid; carol potential), and the moves of
      // the live stream's viewers since their previous stream: bob up, alice down
      expect(await value(page, '[data-part="now"] [data-stat="high"] dd')).toBe('1');
      expect(await value(page, '[data-part="now"] [data-stat="mid"] dd')).toBe('2');
      expect(await value(page, '[data-part="now"] [data-stat="potential"] dd')).toBe('1');
      expect(await value(page, '[data-part="moves"] [data-stat="movedUp"] dd')).toBe('1');
      expect(await value(page, '[data-part="moves"] [data-stat="movedDown"] dd')).toBe('1');
      const tierRow = (id: string) => `[data-part="tiers"] tr[data-stream="${id}"]`;
      expect(await value(page, `${tierRow('e2e-tea-1')} [data-col="asOf"]`)).toBe('end');
      expect(await value(page, `${tierRow('e2e-tea-1')} [data-col="high"]`)).toBe('1');
      expect(await value(page, `${tierRow('e2e-tea-2')} [data-col="asOf"]`)).toBe('now');
      expect(await value(page, `${tierRow('e2e-tea-2')} [data-col="movedUp"]`)).toBe('1');

      // the charts: one group of bars per stream, each an image named for assistive technology
      expect(await page.locator('[data-chart]').count()).toBe(2);
      expect(await page.locator('[data-chart="chart-gmv"] rect.bar').count()).toBe(4); // GMV and viewers × 2 streams
      expect(await page.locator('[data-chart="chart-high"] svg').getAttribute('role')).toBe('img');
      expect(await page.locator('#lang-link').getAttribute('href')).toBe(`/channel/${CHANNEL}?lang=zh-CN`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('in Chinese and in English: headings in the language, screenshots on a desktop and a phone', async () => {
    for (const lang of ['zh-CN', 'en']) {
      for (const width of [1280, 390]) {
        const { page, problems } = await openPage(lang, { width });
        try {
          expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
          const headings = await page.locator('h2, h3').allTextContents();
          expect(headings.length).toBeGreaterThanOrEqual(4);
          if (lang === 'zh-CN') {
            expect(headings.every((h) => CHINESE.test(h)), headings.join(' | ')).toBe(true);
            expect(await text(page, '[data-section="streams"] h2')).toBe('直播对比');
            expect(await text(page, '[data-part="streams"] tr[data-stream="e2e-tea-2"] th')).toBe('Spring tea, part 2 直播中');
            expect(await text(page, '[data-part="streams"] tr[data-stream="e2e-tea-1"] td time')).toMatch(/\d{4}年\d{1,2}月\d{1,2}日/);
          } else {
            expect(headings.some((h) => CHINESE.test(h))).toBe(false);
            expect(await text(page, '[data-section="streams"] h2')).toBe('Streams compared');
          }
          const name = width < 500 ? `channel-phone-${lang}.png` : `channel-${lang}.png`;
          await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
          expect(problems).toEqual([]);
        } finally {
          await page.close();
        }
      }
    }
  }, 90_000);

  for (const [lang, width] of [['en', 1280], ['zh-CN', 1280], ['en', 390], ['zh-CN', 390]] as const) {
    it(`passes axe-core (WCAG 2 A/AA) with no serious or critical violation (${lang}, ${width} px)`, async () => {
      const { page } = await openPage(lang, { width });
      try {
        const bad = await seriousViolations(page);
        expect(bad, bad.join('\n')).toEqual([]);
        // a table box wider than its screen is a tab stop, and only such a box
        const boxes = await page.locator('.scroll').evaluateAll((els) => els.map((e) => [e.scrollWidth > e.clientWidth, e.getAttribute('tabindex') === '0']));
        expect(boxes.length).toBe(2);
        expect(boxes.every(([wide, focusable]) => wide === focusable), JSON.stringify(boxes)).toBe(true);
      } finally {
        await page.close();
      }
    });
  }

  it('a wrong key is forgotten and asked for again; the admin key opens the page too', async () => {
    const { page, problems } = await openPage('en', { key: 'lt_channel_wrong', wait: false });
    try {
      await expect.poll(() => text(page, '#keyerror'), { timeout: 10_000 }).toBe('Wrong key. Please check it and try again.');
      expect(await page.evaluate((k) => sessionStorage.getItem(k), `livetier:channel-key:${CHANNEL}`)).toBeNull();
      await page.getByLabel('Channel key (or the admin key)').fill(ADMIN_KEY);
      await page.locator('#keybutton').click();
      await page.locator('#overview[data-ready="true"]').waitFor({ timeout: 15_000 });
      expect(await text(page, 'h1')).toBe(CHANNEL);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("another channel's key is refused in Chinese, saying why", async () => {
    const { page } = await openPage('zh-CN', { key: otherKey, wait: false });
    try {
      await expect.poll(() => text(page, '#keyerror'), { timeout: 10_000 }).toBe('该密钥无权查看本频道：它属于另一个频道或某场直播。请使用本频道的密钥。');
      expect(await text(page, '#keylabel')).toBe('频道密钥（或管理员密钥）');
      expect(await page.locator('#keyform').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });
});
