/**
 * The host panel's loader, the only part of it inside the viewers' script (/livetier.js): when a
 * `<livetier-host-panel>` appears in the page, it injects /livetier-host.js (the panel, in its own
 * bundle) from where /livetier.js came from; the element upgrades once defined. Pages without a
 * host panel never download it.
 */
const TAG = 'livetier-host-panel';
export const HOST_BUNDLE = 'livetier-host.js';

const current = document.currentScript as HTMLScriptElement | null;
const base = current?.src ? new URL('.', current.src).href : null;
const nonce = current?.nonce || undefined;
let injected = false;

function inject(el: Element) {
  if (injected || customElements.get(TAG)) return;
  const server = base ?? (el.getAttribute('server') ? el.getAttribute('server')!.replace(/\/+$/, '') + '/' : null);
  if (!server) return;
  injected = true;
  const s = document.createElement('script');
  s.src = server + HOST_BUNDLE;
  s.async = true;
  if (nonce) s.nonce = nonce;
  document.head.append(s);
}

const found = document.getElementsByTagName(TAG);
const check = () => found.length > 0 && inject(found[0]!);
check();
if (!injected && !customElements.get(TAG)) {
  const observer = new MutationObserver(() => {
    check();
    if (injected || customElements.get(TAG)) observer.disconnect();
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}
