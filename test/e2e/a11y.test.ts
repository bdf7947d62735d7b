/**
 * Accessibility of the host page (issue 16), checked by an independent tool: axe-core's WCAG 2
 * A/AA rules run in real Chromium on /host/:streamId with a live stream behind it (tiers, funnel,
 * campaigns, a push in the log, activity, a poll), in English and in Chinese. No serious or
 * critical violation may remain (colour contrast of the coral buttons and the "Live" status on
 * the dark card were the ones found).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServer, createStream, viewerToken, connectViewer, closeAllClients, eid, client, connect, type TestServer, type StreamKeys } from '../helpers/server.js';
import { launch } from '../helpers/browser.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let srv: TestServer;
let stream: StreamKeys;
let browser: Browser;

beforeAll(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Spring tea live', channel: 'e2e-a11y' });
  browser = await launch();
  // something in every section: viewers of each tier, a funnel, a push, a comment, a poll
  const alice = await connectViewer(srv, { streamId: stream.id, viewerId: 'a', token: await viewerToken(srv, stream.ingestKey, 'alice') });
  await connectViewer(srv, { streamId: stream.id, viewerId: 'carol' });
  await alice.socket.emitWithAck('track', [
    { id: eid(), type: 'product_view', ts: Date.now(), data: { sku: 'TEA' } },
    { id: eid(), type: 'comment', ts: Date.now(), data: { text: 'lovely tea' } },
  ]);
  await srv.api('POST', '/v1/purchases', { orderId: 'a11y-1', viewerId: 'alice', amount: 60_000, currency: 'CNY' }, stream.ingestKey);
  const h = client(srv, '/host', { streamId: stream.id, hostKey: stream.hostKey });
  await connect(h);
  await h.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 }, holdoutPercent: 10 });
  await h.emitWithAck('poll:open', { question: 'Another round?' });
  h.close();
});

afterAll(async () => {
  closeAllClients();
  await browser?.close();
  await srv?.close();
});

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

describe('the host page passes axe-core (WCAG 2 A/AA)', () => {
  for (const lang of ['en', 'zh-CN']) {
    it(`with no serious or critical violation (${lang})`, async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await page.goto(`${srv.url}/host/${stream.id}?lang=${lang}#key=${encodeURIComponent(stream.hostKey)}`);
        await page.locator('livetier-host-panel [part~="status"].live').waitFor({ timeout: 10_000 });
        await page.locator('livetier-host-panel [part~="push-row"]').first().waitFor({ timeout: 10_000 });
        await page.addScriptTag({ path: AXE });
        const violations = (await page.evaluate(async () => {
          const axe = (window as any).axe;
          const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return r.violations;
        })) as Violation[];
        const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 5).map((n) => `  ${JSON.stringify(n.target)}: ${n.failureSummary?.split('\n').slice(1).join(' ')}`).join('\n')}`);
        expect(report, report.join('\n')).toEqual([]);
      } finally {
        await page.close();
      }
    }, 60_000);
  }
});
