/**
 * The script-tag entry (built to dist/browser/livetier.js as an IIFE). It defines
 * `<livetier-widget>` and `<livetier-host-panel>`, installs `window.LiveTier`, and replays what the
 * page queued before the script arrived. The snippet stub a page may paste before it:
 *
 *   <script>
 *     window.LiveTier = window.LiveTier || { q: [], init: function () { this.q.push(['init', arguments]); } };
 *     LiveTier.init({ server: 'https://live.example', stream: 'spring-sale', video: '#player' });
 *     // optional: queue client calls too, they run on the client of the latest init
 *     LiveTier.q.push(['track', ['product_view', { sku: 'TEA-01' }]]);
 *   </script>
 *   <script async src="https://live.example/livetier.js"></script>
 *
 * After load, `LiveTier.init(...)` returns the client directly, `LiveTier.client` is the client
 * of the latest `init` (including replayed ones), and `LiveTier.q.push([...])` runs at once.
 */
import { init, version, type InitOptions, type LiveTierClient } from './index.js';
import '../widget/livetier-widget/element.js';
import '../widget/livetier-host-panel/element.js';

type QueuedCall = [method: string, args: ArrayLike<unknown>];

interface LiveTierGlobal {
  init(options: InitOptions): LiveTierClient;
  version: string;
  client?: LiveTierClient;
  q: { push(call: QueuedCall): void };
}

declare global {
  interface Window {
    LiveTier?: LiveTierGlobal | { q?: QueuedCall[] };
  }
}

const stub = window.LiveTier as { q?: QueuedCall[] } | undefined;

function run([method, args]: QueuedCall) {
  try {
    if (method === 'init') api.init(args[0] as InitOptions);
    else (api.client as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>)?.[method]?.(...Array.from(args));
  } catch (err) {
    console.error(`[livetier] queued ${method} failed`, err);
  }
}

const api: LiveTierGlobal = {
  version,
  init(options) {
    return (api.client = init(options));
  },
  q: { push: run },
};
window.LiveTier = api;

for (const call of stub?.q ?? []) run(call);
