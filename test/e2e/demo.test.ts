/**
 * The demo as a person sees it (what `npm start` shows), in real Chromium: the viewer page with its
 * looping local video, pinned products and the widget, and the host page, while the audience
 * simulator (time-compressed) watches, buys and redeems. Nothing here measures speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServer, createStream, type TestServer, type StreamKeys } from '../helpers/server.js';
import { launch } from '../helpers/browser.js';
import { Simulator } from '../../demo/simulator.js';

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;
let sim: Simulator;

beforeAll(async () => {
  srv = await startServer();
  stream = await createStream(srv, { id: 'demo', title: 'LiveTier demo', channel: 'demo-shop' });
  sim = new Simulator({
    server: srv.url, stream: 'demo', ingestKey: stream.ingestKey, hostKey: stream.hostKey,
    viewers: 10, minutes: 0, speed: 10, mix: { loyal: 0.4, deal: 0.4 }, quiet: true,
  });
  await sim.start();
  browser = await launch();
});

afterAll(async () => {
  await sim?.stop();
  await browser?.close();
  await srv?.close();
});

describe('the demo pages', () => {
  it('the viewer page plays its local video, shows the pinned products, keeps a cart, and a host deal arrives', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const remote: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(srv.url) && !req.url().startsWith('ws://127.0.0.1') && !req.url().startsWith('data:') && !req.url().startsWith('blob:')) remote.push(req.url());
    });
    await page.goto(`${srv.url}/demo/`);

    // the looping video is drawn locally (no network) and plays
    await expect.poll(() => page.evaluate(() => {
      const v = document.querySelector('video')!;
      return !v.paused && v.readyState >= 2;
    }), { timeout: 10_000 }).toBe(true);

    const products = page.locator('livetier-widget [part~="product"]');
    await expect.poll(() => products.count(), { timeout: 10_000 }).toBe(3);
    await products.filter({ hasText: 'Silk scarf' }).getByRole('button').click();
    await expect.poll(() => page.locator('#cart').textContent(), { timeout: 5000 }).toContain('Silk scarf × 1');

    // the simulator's host pushes a deal to watchers (every 3 s at speed 10): this page is one of them
    await page.locator('livetier-widget [part~="card"]').first().waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(remote).toEqual([]);
    await page.close();
  });

  it('the host page shows buyers leaving potential and the simulated audience buying', async () => {
    const page = await browser.newPage();
    await page.goto(`${srv.url}/host/demo#key=${encodeURIComponent(stream.hostKey)}`);
    const count = async (tier: string) => Number((await page.locator(`livetier-host-panel [data-tier="${tier}"]`).first().textContent())?.match(/\d+/)?.[0] ?? NaN);
    await expect.poll(async () => (await count('mid')) + (await count('high')), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await count('potential')).toBeGreaterThan(0);
    expect(sim.stats.purchases).toBeGreaterThan(0);
    expect(page.url()).not.toContain(stream.hostKey);
    await page.close();
  });
});
