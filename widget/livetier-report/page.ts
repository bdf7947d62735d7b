/**
 * The report page (/host/:streamId/report, demo/report.html), built to /livetier-report.js.
 *
 * Like the host page it asks for the stream's host key once and keeps it only in this tab's
 * session storage, under the same name, so a host coming from the dashboard is not asked again.
 * A key in the URL fragment (#key=…, never sent to any server) is taken and removed from the URL;
 * a wrong key is forgotten and asked again with a clear message. `?lang=zh-CN|en` picks the
 * language (default: the browser's), `?currency=` the currency when the report does not carry one.
 *
 * It reads the report, the campaigns (for their uplift), the pushes, the live summary (for
 * lifecycle counts while the stream is live), and the channel model's segments and the stream's
 * viewers by predicted value with the key, and renders them with renderReport.
 * Nothing inline: the page runs under a Content-Security-Policy allowing only this server's
 * scripts, styles and connections.
 */
import { render } from 'lit';
import type { CampaignItem, PushItem } from '../livetier-host-panel/api.js';
import { renderReport, PUSHES_SHOWN, PREDICTED_SHOWN, type PredictedViewer, type ReportData } from './view.js';
import type { SegmentsData } from '../livetier-host-panel/segments.js';
import { REPORT_TEXT } from './text.js';
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
const streamId = decodeURIComponent(location.pathname.match(/^\/host\/([^/]+)\/report/)?.[1] ?? params.get('stream') ?? 'demo');
/** the host page's name for the key: one key per stream and tab, whichever page asked for it */
const storageKey = `livetier:host-key:${streamId}`;
const lang: Lang = (params.get('lang') ?? navigator.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
const t = REPORT_TEXT[lang];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function chrome() {
  document.documentElement.lang = lang;
  document.title = t.heading;
  $('toolbar').setAttribute('aria-label', t.actions);
  const dashboard = $<HTMLAnchorElement>('dashboard-link');
  dashboard.textContent = t.dashboard;
  dashboard.href = `/host/${encodeURIComponent(streamId)}?lang=${lang}`;
  const other = new URL(location.href);
  other.searchParams.set('lang', t.otherLangTag);
  const switcher = $<HTMLAnchorElement>('lang-link');
  switcher.textContent = t.otherLang;
  switcher.lang = t.otherLangTag;
  switcher.hreflang = t.otherLangTag;
  switcher.href = other.pathname + other.search;
  const print = $<HTMLButtonElement>('print');
  print.textContent = t.print;
  print.addEventListener('click', () => window.print());
  $('keylabel').textContent = t.keyLabel;
  $('keybutton').textContent = t.open;
}

async function get<T>(key: string, path: string): Promise<T> {
  const res = await fetch(`/v1/streams/${encodeURIComponent(streamId)}${path}`, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new HttpError(res.status, (body as { message?: string } | null)?.message ?? `HTTP ${res.status}`);
  return body as T;
}

/** a list beside the report: null when it cannot be read (the section then says less, the page still renders) */
const optional = <T>(work: Promise<T>): Promise<T | null> => work.catch(() => null);

async function open(key: string) {
  const status = $('status');
  status.textContent = t.loading;
  let report: ReportData;
  try {
    report = await get<ReportData>(key, '/report');
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
  const [campaigns, pushes, summary, segments, predicted] = await Promise.all([
    optional(get<{ campaigns: CampaignItem[] }>(key, '/campaigns?adhoc=false').then((r) => r.campaigns)),
    optional(get<{ pushes: PushItem[] }>(key, `/pushes?limit=${PUSHES_SHOWN}`).then((r) => r.pushes)),
    report.endedAt === null ? optional(get<{ lifecycle?: Record<string, number> }>(key, '/summary')) : Promise.resolve(null),
    // the channel model's: shown once it has found them
    optional(get<SegmentsData>(key, `/segments?lang=${lang}`)),
    optional(get<{ viewers: PredictedViewer[] }>(key, `/viewers?sort=predicted&limit=${PREDICTED_SHOWN}`).then((r) => r.viewers)),
  ]);
  const currency = report.currency ?? params.get('currency') ?? 'CNY';
  document.title = t.documentTitle(report.title || report.streamId);
  status.textContent = '';
  render(renderReport({ report, lang, currency, campaigns, pushes, lifecycleNow: summary?.lifecycle ?? null, segments, predicted }), $('report'));
  scrollBoxes();
  addEventListener('resize', scrollBoxes);
  $('print').hidden = false;
  $('report').dataset.ready = 'true';
}

/**
 * A table wider than the screen (a phone) scrolls inside its box: such a box takes the keyboard
 * focus, so it can be scrolled without a pointer (WCAG 2.1.1); a box that fits is no tab stop.
 * The push log's box comes from the host panel's template, so it is named here.
 */
function scrollBoxes() {
  for (const box of $('report').querySelectorAll<HTMLElement>('.scroll')) {
    if (!box.hasAttribute('aria-label')) {
      box.setAttribute('role', 'region');
      box.setAttribute('aria-label', box.parentElement?.querySelector('h3')?.textContent ?? '');
    }
    if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
    else box.removeAttribute('tabindex');
  }
}

function ask(message = '') {
  const form = $<HTMLFormElement>('keyform');
  form.hidden = false;
  $('keyerror').textContent = message;
  const input = $<HTMLInputElement>('hostkey');
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
