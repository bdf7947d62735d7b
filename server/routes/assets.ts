/**
 * Static things: the script-tag bundle and its on-demand chunks (`/livetier.js`, built by rollup
 * into dist/browser), the demo pages, the host page, the stream's report page and the channel's
 * overview page.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// when running from dist/server, ROOT is dist/; the repo root is one more up
const REPO = path.basename(ROOT) === 'dist' ? path.dirname(ROOT) : ROOT;
export const BROWSER_DIR = path.join(REPO, 'dist', 'browser');
export const DEMO_DIR = path.join(REPO, 'demo');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', // livetier-host.mjs
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** the report and channel pages' policy: nothing inline, nothing from elsewhere, no framing */
export const REPORT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const assetRoutes: FastifyPluginAsync = async (app) => {
  const cache = new Map<string, Buffer>();
  async function file(dir: string, name: string): Promise<Buffer | null> {
    const full = path.join(dir, name);
    if (!full.startsWith(dir + path.sep)) return null;
    const hit = cache.get(full);
    if (hit) return hit;
    try {
      const buf = await readFile(full);
      if (process.env.NODE_ENV === 'production') cache.set(full, buf);
      return buf;
    } catch {
      return null;
    }
  }

  // the bundle is embedded by other origins' pages: any origin may load it
  app.get<{ Params: { name: string } }>('/:name', async (req, reply) => {
    const { name } = req.params;
    // livetier.js, and on demand livetier-host.js / .mjs and livetier-uplot.js
    if (!/^livetier[a-z0-9.-]*\.m?js(\.map)?$/.test(name)) return reply.callNotFound();
    const buf = await file(BROWSER_DIR, name);
    if (!buf) {
      reply.code(503);
      return { statusCode: 503, error: 'unavailable', message: `${name} is not built yet: run npm run build` };
    }
    reply
      .header('content-type', TYPES[path.extname(name)]!)
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', 'public, max-age=300');
    return buf;
  });

  app.get('/', async (_req, reply) => reply.redirect('/demo/'));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());

  app.get<{ Params: { '*': string } }>('/demo/*', async (req, reply) => {
    const name = req.params['*'] || 'index.html';
    if (!/^[a-z0-9-]+\.(html|css|js)$/.test(name)) return reply.callNotFound();
    const buf = await file(DEMO_DIR, name);
    if (!buf) return reply.callNotFound();
    reply.header('content-type', TYPES[path.extname(name)]!);
    return buf;
  });

  // the host page of any stream; it asks for the host key and keeps it in session storage
  app.get('/host/:streamId', async (_req, reply) => {
    const buf = await file(DEMO_DIR, 'host.html');
    if (!buf) return reply.callNotFound();
    reply.header('content-type', TYPES['.html']!);
    return buf;
  });

  /** a page that holds a key runs only this server's script and style and talks only to this server */
  const keyedPage = (name: string) => async (_req: unknown, reply: FastifyReply) => {
    const buf = await file(DEMO_DIR, name);
    if (!buf) return reply.callNotFound();
    reply
      .header('content-type', TYPES['.html']!)
      .header('content-security-policy', REPORT_CSP)
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store');
    return buf;
  };
  // the stream's printable report, with the same host key
  app.get('/host/:streamId/report', keyedPage('report.html'));
  // the channel's overview page (its streams compared), with the admin or the channel's read-only key
  app.get('/channel/:channel', keyedPage('channel.html'));
};
