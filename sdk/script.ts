/**
 * The script-tag entry (built to dist/browser/livetier.js as an IIFE). It defines
 * `<livetier-widget>` and `<livetier-host-panel>`, installs `window.LiveTier`, and replays what the
 * page queued before the script arrived. The snippet stub a page may paste before it (it queues
 * every method of the public API):
 *
 *   <script>
 *     !function(l){l=window.LiveTier=window.LiveTier||{q:[]};'init track identify consent on flush close'.split(' ')
 *       .forEach(function(m){l[m]=l[m]||function(){l.q.push([m,arguments])}})}();
 *     LiveTier.init({ server: 'https://live.example', stream: 'spring-sale', video: '#player', consent: 'pending' });
 *     LiveTier.track('product_view', { sku: 'TEA-01' });
 *   </script>
 *   <script async src="https://live.example/livetier.js"></script>
 *
 * After load, `LiveTier.init(...)` returns the client directly, `LiveTier.client` is the client
 * of the latest `init` (including replayed ones), `LiveTier.track(...)` and the other methods
 * call that client, and `LiveTier.q.push([...])` runs at once.
 */
import { init, version, type InitOptions, type LiveTierClient } from './index.js';
import '../widget/livetier-widget/element.js';
// issue 6: the host panel is its own bundle (/livetier-host.js); this tiny loader fetches it when a panel appears
import '../widget/livetier-host-panel/loader.js';

type QueuedCall = [method: string, args: ArrayLike<unknown>];

type ClientMethods = Pick<LiveTierClient, 'track' | 'identify' | 'consent' | 'on' | 'flush' | 'close'>;

interface LiveTierGlobal extends Partial<ClientMethods> {
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
// the client's methods, on the latest client (what the stub queued them as)
for (const m of ['track', 'identify', 'consent', 'on', 'flush', 'close'] as const) {
  (api as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => (api.client as unknown as Record<string, (...a: unknown[]) => unknown> | undefined)?.[m]?.(...args);
}
window.LiveTier = api;

for (const call of stub?.q ?? []) run(call);
