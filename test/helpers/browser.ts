/**
 * Real Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no browser download), plus a tiny static server that plays the streamer's own site.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** Serves fixed pages (path → html) on an ephemeral port: a streamer's site on its own origin. */
export async function startSite(pages: Record<string, string | (() => string)>, headers: Record<string, string> = {}) {
  const server: Server = createServer((req, res) => {
    const page = pages[(req.url ?? '/').split('?')[0]!];
    if (page === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(typeof page === 'function' ? page() : page);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    /** `localhost` rather than 127.0.0.1: another host as well as another port than the LiveTier server */
    origin: `http://localhost:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A browser step that gave no answer in time (see `within`). */
export class TooLate extends Error {}

/** Fails with the step's name when a browser call hangs (instead of the whole test timing out silently). */
export async function within<T>(label: string, work: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TooLate(`${label}: no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens `origin + path` in a new tab of `context` and waits for the SDK to start
 * (`window.LiveTier.client`). A page load that hangs in headless Chromium (seen once in ~50 runs,
 * on a loaded machine) gets one more try in a new tab; a page that never starts the SDK fails both.
 */
export async function openSdkPage(context: BrowserContext, origin: string, path: string, attempt = 1): Promise<Page> {
  const p = await within('new page', context.newPage());
  p.on('pageerror', (err) => console.error('page error:', err.message));
  try {
    await within(`load ${path}`, p.goto(`${origin}${path}`));
    await within('LiveTier.client', p.waitForFunction(() => !!(window as any).LiveTier?.client));
  } catch (err) {
    await p.close().catch(() => {});
    if (attempt > 1) throw err;
    console.warn(`retrying ${path}: ${(err as Error).message}`);
    return openSdkPage(context, origin, path, attempt + 1);
  }
  return p;
}

/** tracks a comment through the page's SDK; its event id */
export const trackComment = (p: Page, text: string) => p.evaluate((t) => (window as any).LiveTier.track('comment', { text: t }) as string, text);
/** the ids of the events waiting in the page's stored queues */
export const queuedIds = (p: Page): Promise<string[]> =>
  p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('livetier:q:')).flatMap((k) => JSON.parse(localStorage.getItem(k)!)).map((e: any) => e.id));

/**
 * Closes a context, giving up (with a warning) after `ms`. Chromium can acknowledge a tab close that
 * races a navigation commit without ever closing the tab (crbug.com/536385539; Playwright issue
 * #42366), and Playwright then waits forever. For a test whose checks already passed that is
 * teardown, not a failure: the browser itself is closed after the file.
 */
export async function closeContext(context: BrowserContext, ms = 10_000): Promise<void> {
  try {
    await within('close context', context.close(), ms);
  } catch (err) {
    if (!(err instanceof TooLate)) throw err;
    console.warn(`${err.message} (Chromium close/navigation race); left to browser.close()`);
  }
}
