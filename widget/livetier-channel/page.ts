/**
 * The channel page (/channel/:channel, demo/channel.html), built to /livetier-channel.js.
 *
 * Like the host and report pages it asks for a key once and keeps it only in this tab's session
 * storage: the channel's read-only key (`lt_channel_…`, from the admin) or the admin key. A key in
 * the URL fragment (#key=…, never sent to any server) is taken and removed from the URL; a key
 * the server refuses (401, 403) is forgotten and asked again with a message saying why.
 * `?lang=zh-CN|en` picks the language (default: the browser's), `?limit=` how many streams (1–100).
 *
 * It reads GET /v1/channels/:channel/overview and renders it with renderOverview. Nothing inline:
 * the page runs under a Content-Security-Policy allowing only this server's scripts, styles and
 * connections.
 */
import { render } from 'lit';
import { renderOverview, type OverviewData } from './view.js';
import { CHANNEL_TEXT } from './text.js';
import type { Lang } from '../locale.js';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const params = new URLSearchParams(location.search);
const channel = decodeURIComponent(location.pathname.match(/^\/channel\/([^/]+)/)?.[1] ?? params.get('channel') ?? 'demo');
const storageKey = `livetier:channel-key:${channel}`;
const lang: Lang = (params.get('lang') ?? navigator.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
const t = CHANNEL_TEXT[lang];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function chrome() {
  document.documentElement.lang = lang;
  document.title = t.documentTitle(channel);
  $('toolbar').setAttribute('aria-label', t.actions);
  const other = new URL(location.href);
  other.searchParams.set('lang', t.otherLangTag);
  const switcher = $<HTMLAnchorElement>('lang-link');
  switcher.textContent = t.otherLang;
  switcher.lang = t.otherLangTag;
  switcher.hreflang = t.otherLangTag;
  switcher.href = other.pathname + other.search;
  $('keylabel').textContent = t.keyLabel;
  $('keybutton').textContent = t.open;
}

async function load(key: string): Promise<OverviewData> {
  const limit = params.get('limit');
  const query = limit ? `?limit=${encodeURIComponent(limit)}` : '';
  const res = await fetch(`/v1/channels/${encodeURIComponent(channel)}/overview${query}`, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new HttpError(res.status, (body as { message?: string } | null)?.message ?? `HTTP ${res.status}`);
  return body as OverviewData;
}

async function open(key: string) {
  const status = $('status');
  status.textContent = t.loading;
  let data: OverviewData;
  try {
    data = await load(key);
  } catch (err) {
    status.textContent = '';
    const code = err instanceof HttpError ? err.status : 0;
    if (code === 401 || code === 403) {
      sessionStorage.removeItem(storageKey);
      ask(code === 403 ? t.forbidden : t.wrong);
    } else {
      status.textContent = code === 404 ? t.notFound : t.failed((err as Error).message);
    }
    return;
  }
  status.textContent = '';
  render(renderOverview({ data, lang, currency: data.currency ?? params.get('currency') ?? 'CNY' }), $('overview'));
  scrollBoxes();
  addEventListener('resize', scrollBoxes);
  $('overview').dataset.ready = 'true';
}

/** a table wider than the screen scrolls inside its box, which then takes the keyboard focus (WCAG 2.1.1) */
function scrollBoxes() {
  for (const box of $('overview').querySelectorAll<HTMLElement>('.scroll')) {
    if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
    else box.removeAttribute('tabindex');
  }
}

function ask(message = '') {
  const form = $<HTMLFormElement>('keyform');
  form.hidden = false;
  $('keyerror').textContent = message;
  const input = $<HTMLInputElement>('channelkey');
  input.value = '';
  input.setAttribute('aria-invalid', message ? 'true' : 'false');
  input.focus();
  form.onsubmit = (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(storageKey, key);
    form.hidden = true;
    void open(key);
  };
}

chrome();
const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
if (fromHash) {
  sessionStorage.setItem(storageKey, fromHash);
  history.replaceState(null, '', location.pathname + location.search);
}
const saved = sessionStorage.getItem(storageKey);
if (saved) void open(saved);
else ask();
