/**
 * The report page (/host/:streamId/report, demo/report.html), built to /livetier-report.js.
 *
 * Like the host page it asks for the stream's host key once (../keyed-page.ts) and keeps it in
 * this tab's session storage under the same name, so a host coming from the dashboard is not
 * asked again. `?lang=zh-CN|en` picks the
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
import { byId, focusableScrollBoxes, getJson, otherLangLink, pageLang, startKeyFlow } from '../keyed-page.js';

const params = new URLSearchParams(location.search);
const streamId = decodeURIComponent(location.pathname.match(/^\/host\/([^/]+)\/report/)?.[1] ?? params.get('stream') ?? 'demo');
const lang = pageLang(params);
const t = REPORT_TEXT[lang];

document.documentElement.lang = lang;
document.title = t.heading;
otherLangLink(t);
const dashboard = byId<HTMLAnchorElement>('dashboard-link');
dashboard.textContent = t.dashboard;
dashboard.href = `/host/${encodeURIComponent(streamId)}?lang=${lang}`;
const print = byId<HTMLButtonElement>('print');
print.textContent = t.print;
print.addEventListener('click', () => window.print());
byId('keylabel').textContent = t.keyLabel;
byId('keybutton').textContent = t.open;

const get = <T>(key: string, path: string) => getJson<T>(`/v1/streams/${encodeURIComponent(streamId)}${path}`, key);

/** a list beside the report: null when it cannot be read (the section then says less, the page still renders) */
const optional = <T>(work: Promise<T>): Promise<T | null> => work.catch(() => null);

/** the push log's box comes from the host panel's template, so it is named here */
const scrollBoxes = () =>
  focusableScrollBoxes(byId('report'), (box) => {
    if (box.hasAttribute('aria-label')) return;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', box.parentElement?.querySelector('h3')?.textContent ?? '');
  });

startKeyFlow<ReportData>({
  /** the host page's name for the key: one key per stream and tab, whichever page asked for it */
  storageKey: `livetier:host-key:${streamId}`,
  inputId: 'hostkey',
  text: t,
  load: (key) => get<ReportData>(key, '/report'),
  show: async (report, key) => {
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
    render(renderReport({ report, lang, currency, campaigns, pushes, lifecycleNow: summary?.lifecycle ?? null, segments, predicted }), byId('report'));
    scrollBoxes();
    addEventListener('resize', scrollBoxes);
    byId('print').hidden = false;
    byId('report').dataset.ready = 'true';
  },
});
