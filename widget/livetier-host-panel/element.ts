import { LitElement, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import type {
  ActivityItem,
  Discount,
  ErrorCode,
  FunnelCounts,
  HostPushAck,
  HostPushRequest,
  MinutePoint,
  PollOpenRequest,
  PollPayload,
  PollResults,
  StreamFunnel,
  StreamSummary,
  Tier,
  TrendPoint,
  ErrorAck,
} from '../../server/realtime/events.js';
import { formatMoney, resolveLang, textIn, type Lang } from '../locale.js';
import { HostConnection, type HostStatus } from './connection.js';
import { buildPushRequest, DEFAULT_PUSH_HOLDOUT } from './push.js';
import { renderPushes, upliftCell } from './pushes.js';
import { renderSegments, type SegmentsData } from './segments.js';
import { styles } from './element.styles.js';
import { FUNNEL_STEPS, LIFECYCLES, TEXT, type HostText } from './text.js';
import { HostApi, type CampaignItem, type PushItem, type ViewerDetail, type ViewerListItem } from './api.js';
import { explainAll } from '../../server/tiering/explain.js';
import { TrendChart, mergePoints, minuteColumns, pointValue, SERIES, toColumns, type ChartMode } from './chart.js';

/** a viewer's reasons in the panel's language, from their codes (the words the server sent when it sent none) */
const reasonsIn = (v: ViewerListItem, lang: Lang): string[] => (v.explain?.length ? explainAll(v.explain, lang) : v.reasons);

const TIER_ORDER = ['high', 'mid', 'potential'] as const satisfies readonly Tier[];
/** activity lines kept on screen */
export const ACTIVITY_MAX = 50;
/** minutes kept on the chart (the server sends at most a day of them) */
export const MINUTES_MAX = 24 * 60;
/** top viewers and campaigns are re-read at most this often while updates flow */
export const LIST_REFRESH_MS = 2_000;

type Summary = StreamSummary & { lifecycle?: Record<string, number> };

/** New items (oldest first, as the server sends them) on top of the list (newest first); a reconnect's backlog is not shown twice. */
export function mergeActivity(list: readonly ActivityItem[], items: readonly ActivityItem[]): ActivityItem[] {
  const key = (i: ActivityItem) => `${i.id}:${i.at}`;
  const seen = new Set(list.map(key));
  const fresh = items.filter((i) => !seen.has(key(i))).reverse();
  return [...fresh, ...list].slice(0, ACTIVITY_MAX);
}

/**
 * @summary The host's live dashboard for one stream: the audience by tier and lifecycle with a
 * trend chart (and watching now, orders and GMV per minute), top viewers with their reasons
 * (detail on click), the funnel with conversion per step and per tier, GMV, orders and average
 * order value, each campaign's numbers and uplift, the recent activity, and the actions: push an
 * offer to a tier, pause / resume a campaign, open a poll.
 *
 * Connects to the server's `/host` namespace with `{ streamId, hostKey }` (the live data) and reads
 * top viewers and campaigns over REST with the same key. Set `summary`, `funnel`, `activity`,
 * `trend`, `minutes`, `poll`, `topByValue`, `topByEngagement` and `campaigns` directly to render without a server.
 *
 * @attr server - origin of the LiveTier server, e.g. `https://live.example`
 * @attr stream - stream id
 * @attr host-key - the stream's host key (from `POST /v1/streams`); keep it out of public pages
 * @attr lang - `en` or `zh-CN`; default: the page's `<html lang>`, else English
 * @attr currency - ISO 4217 code used to show money and to read amounts typed in the push form (major units); default: plain numbers with 2 decimals
 *
 * @fires livetier-push - a push was answered (bubbles, composed); `detail` is `{ request, ack }`
 * @fires livetier-poll - a poll was opened or refused (bubbles, composed); `detail` is `{ request, ack }`
 * @fires livetier-auth-error - the server refused the host key (bubbles, composed); `detail` is `{ code, message }`
 *
 * @csspart panel - the whole panel
 * @csspart status - the connection status
 * @csspart error - why the panel is not connected
 * @csspart card - each section (`data-section="audience" | "trend" | "funnel" | "top" | "campaigns" | "activity" | "push" | "poll" | "viewer"`)
 * @csspart tier - one tier's count (`data-tier="high" | "mid" | "potential"`)
 * @csspart lifecycle - one lifecycle stage's count (`data-lifecycle="new" | "active" | "at_risk" | "lapsed"`)
 * @csspart stat - one figure (`data-stat="connected" | "audience" | "orders" | "gmv" | "aov" | "offers"`)
 * @csspart chart - the trend chart's box
 * @csspart funnel - the funnel table
 * @csspart viewer - a top viewer's button (`data-viewer` is the id)
 * @csspart campaign - a campaign's row (`data-campaign` is the id)
 * @csspart toggle - a campaign's pause / resume button
 * @csspart activity - one activity line (`data-type="purchase" | "tier" | "comment"`)
 * @csspart form - the push form
 * @csspart push - the Push button
 * @csspart result - the push's answer
 * @csspart poll-form - the poll form
 * @csspart poll-results - the latest poll's results
 *
 * @cssprop --livetier-accent - accent colour (default #d0302f)
 * @cssprop --livetier-accent-fg - text on the accent colour (default #ffffff; set a dark one with a light accent, for 4.5:1)
 * @cssprop --livetier-ok - the "Live" status colour (default #1a7f37; set a light one on a dark background)
 * @cssprop --livetier-bg - panel background
 * @cssprop --livetier-fg - text colour
 * @cssprop --livetier-radius - corner radius
 * @cssprop --livetier-font - font family
 */
export class LiveTierHostPanel extends LitElement {
  static override styles = styles;

  static override properties: PropertyDeclarations = {
    server: { type: String },
    stream: { type: String },
    hostKey: { type: String, attribute: 'host-key' },
    lang: { type: String, reflect: true },
    currency: { type: String },
    summary: { attribute: false },
    funnel: { attribute: false },
    activity: { attribute: false },
    trend: { attribute: false },
    minutes: { attribute: false },
    poll: { attribute: false },
    topByValue: { attribute: false },
    topByEngagement: { attribute: false },
    topByPredicted: { attribute: false },
    segments: { attribute: false },
    campaigns: { attribute: false },
    pushes: { attribute: false },
    viewer: { attribute: false },
    kind: { state: true },
    pushing: { state: true },
    result: { state: true },
    pollMessage: { state: true },
    listError: { state: true },
    chartMode: { state: true },
  };

  /** origin of the LiveTier server */
  declare server: string | undefined;
  /** stream id */
  declare stream: string | undefined;
  /** the stream's host key (attribute `host-key`) */
  declare hostKey: string | undefined;
  /** `en` or `zh-CN` for the built-in text */
  declare lang: string;
  /** ISO 4217 code for money shown and typed */
  declare currency: string | undefined;
  /** the latest figures (the server's `snapshot`/`update`) */
  declare summary: Summary | null;
  /** the stream's funnel (the server's `funnel`) */
  declare funnel: StreamFunnel | null;
  /** recent activity, newest first */
  declare activity: ActivityItem[];
  /** the audience-by-tier series, oldest first */
  declare trend: TrendPoint[];
  /** the stream minute by minute (watching now, orders, GMV), oldest first: the chart's Sales tab */
  declare minutes: MinutePoint[];
  /** the latest poll's results */
  declare poll: PollResults | null;
  /** top viewers by value and by engagement (REST, refreshed while updates flow) */
  declare topByValue: ViewerListItem[] | null;
  declare topByEngagement: ViewerListItem[] | null;
  /** top viewers by predicted 12-month value (those with a prediction) */
  declare topByPredicted: ViewerListItem[] | null;
  /** the segments the channel's model found (REST) */
  declare segments: SegmentsData | null;
  /** the stream's campaigns with their stats (REST) */
  declare campaigns: CampaignItem[] | null;
  /** the host's pushes, newest first, with their funnel and uplift (REST) */
  declare pushes: PushItem[] | null;
  /** the viewer whose detail is open */
  declare viewer: ViewerDetail | null;
  declare private kind: Discount['kind'];
  declare private pushing: boolean;
  declare private result: { ok: boolean; text: string } | null;
  declare private pollMessage: string | null;
  declare private listError: string | null;
  declare private chartMode: ChartMode;

  private listsAt = 0;
  private listsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly chart = new TrendChart(
    () => this.server,
    () => ({ ...TEXT[resolveLang(this.lang)].tiers, ...TEXT[resolveLang(this.lang)].lifecycle, ...TEXT[resolveLang(this.lang)].sales }),
    (minor) => this.money(minor, resolveLang(this.lang)),
  );

  private readonly connection = new HostConnection(
    this,
    () => (this.server && this.stream && this.hostKey ? { server: this.server, streamId: this.stream, hostKey: this.hostKey } : null),
    (summary) => {
      this.summary = summary;
      this.scheduleLists();
    },
    (code, message) => {
      if (code === 'unauthorized' || code === 'forbidden') {
        this.dispatchEvent(new CustomEvent('livetier-auth-error', { detail: { code, message }, bubbles: true, composed: true }));
      }
    },
    {
      funnel: (funnel) => (this.funnel = funnel),
      activity: (items) => (this.activity = mergeActivity(this.activity, items)),
      trend: (points) => (this.trend = mergePoints(this.trend, points)),
      minutes: (points) => (this.minutes = mergePoints(this.minutes, points, MINUTES_MAX)),
      'poll:results': (results) => (this.poll = results),
    },
  );

  constructor() {
    super();
    this.summary = null;
    this.funnel = null;
    this.activity = [];
    this.trend = [];
    this.minutes = [];
    this.poll = null;
    this.topByValue = null;
    this.topByEngagement = null;
    this.topByPredicted = null;
    this.segments = null;
    this.campaigns = null;
    this.pushes = null;
    this.viewer = null;
    this.kind = 'percent';
    this.pushing = false;
    this.result = null;
    this.pollMessage = null;
    this.listError = null;
    this.chartMode = 'tier';
  }

  /** The connection: `idle`, `connecting`, `live`, `reconnecting` or `refused`. */
  get status(): HostStatus {
    return this.connection.status;
  }

  /** Pushes an offer to a tier (what the form's Push button calls). */
  push(request: HostPushRequest): Promise<HostPushAck> {
    return this.connection.push(request);
  }

  /** Opens a poll for the stream's viewers (what the poll form calls). */
  openPoll(request: PollOpenRequest): Promise<PollPayload | ErrorAck> {
    return this.connection.openPoll(request);
  }

  private api(): HostApi | null {
    return this.server && this.stream && this.hostKey ? new HostApi(this.server, this.stream, this.hostKey) : null;
  }

  /** Re-reads top viewers and campaigns, at most once per LIST_REFRESH_MS (the last call is never lost). */
  private scheduleLists() {
    if (this.listsTimer) return;
    const wait = Math.max(0, this.listsAt + LIST_REFRESH_MS - Date.now());
    this.listsTimer = setTimeout(() => {
      this.listsTimer = undefined;
      this.listsAt = Date.now();
      void this.refreshLists();
    }, wait);
  }

  /** Reads top viewers and campaigns now. */
  async refreshLists() {
    const api = this.api();
    if (!api) return;
    const [value, engagement, campaigns, pushes, predicted, segments] = await Promise.allSettled([
      api.topViewers('value'), api.topViewers('engagement'), api.campaigns(), api.pushes(), api.topViewers('predicted'), api.segments(resolveLang(this.lang)),
    ]);
    if (segments.status === 'fulfilled') this.segments = segments.value;
    if (value.status === 'fulfilled') this.topByValue = value.value;
    if (engagement.status === 'fulfilled') this.topByEngagement = engagement.value;
    if (predicted.status === 'fulfilled') this.topByPredicted = predicted.value.filter((v) => v.predicted);
    if (campaigns.status === 'fulfilled') this.campaigns = campaigns.value;
    if (pushes.status === 'fulfilled') this.pushes = pushes.value;
    const failed = [value, engagement, campaigns, pushes].find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    this.listError = failed ? String(failed.reason?.message ?? failed.reason) : null;
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.listsTimer);
    this.listsTimer = undefined;
    this.chart.destroy();
  }

  protected override updated(changed: PropertyValues) {
    if (changed.has('trend') || changed.has('minutes') || changed.has('chartMode') || !this.chart.failed) {
      const mode = this.chartMode;
      const columns = mode === 'sales' ? minuteColumns(this.minutes) : toColumns(this.trend, mode);
      this.chart.draw(this.renderRoot.querySelector<HTMLElement>('.chart'), columns, mode);
    }
  }

  override render() {
    const lang = resolveLang(this.lang);
    const t = TEXT[lang];
    const s = this.summary;
    const problem = this.connection.problem;
    return html`<section class="panel" part="panel">
      <header>
        <h2>${s?.title || this.stream || ''}</h2>
        <span class="status ${this.status}" part="status" role="status">${t.status[this.status]}</span>
      </header>
      ${problem && t.problems[problem] ? html`<p class="error" part="error" role="alert">${t.problems[problem]}</p>` : nothing}
      ${this.renderAudience(t, lang)}
      <div class="grid">
        ${this.renderTrend(t, lang)} ${this.renderFunnel(t, lang)} ${this.renderTop(t, lang)} ${this.viewer ? this.renderViewer(t, lang) : nothing}
        ${renderSegments(this.segments, t, lang)}
        ${this.renderCampaigns(t, lang)} ${renderPushes(this.pushes, t, lang, (m) => this.money(m, lang))} ${this.renderActivity(t, lang)}
        ${this.renderForm(t)} ${this.renderPoll(t, lang)}
      </div>
    </section>`;
  }

  private money(minor: number, lang: Lang) {
    return formatMoney(minor, this.currency, lang);
  }

  private renderAudience(t: HostText, lang: Lang) {
    const s = this.summary;
    const count = (n: number | undefined) => (n === undefined ? '–' : String(n));
    const stat = (key: string, label: string, value: string) =>
      html`<div class="stat" part="stat" data-stat=${key}>
        <dt>${label}</dt>
        <dd>${value}</dd>
      </div>`;
    const f = this.funnel;
    const orders = f?.orders ?? s?.orders;
    const gmv = f?.gmv ?? s?.gmv;
    return html`<div class="card audience" part="card" data-section="audience">
      <div class="tiers">
        ${TIER_ORDER.map(
          (tier) =>
            html`<div class="tier ${tier}" part="tier" data-tier=${tier} data-value=${s ? s.tiers[tier] : nothing}>
              <span class="label">${t.tiers[tier]}</span>
              <span class="count">${count(s?.tiers[tier])}</span>
            </div>`,
        )}
      </div>
      ${s?.lifecycle
        ? html`<ul class="lifecycle">
            ${LIFECYCLES.map(
              (stage) =>
                html`<li part="lifecycle" data-lifecycle=${stage}><span class="label">${t.lifecycle[stage]}</span> <b>${s.lifecycle![stage] ?? 0}</b></li>`,
            )}
          </ul>`
        : nothing}
      <dl class="stats">
        ${stat('connected', t.connected, count(s?.connected))} ${stat('audience', t.audience, count(s?.audience))}
        ${stat('orders', t.orders, count(orders))} ${stat('gmv', t.gmv, gmv === undefined ? '–' : this.money(gmv, lang))}
        ${stat('aov', t.aov, orders === undefined || gmv === undefined ? '–' : this.money(orders ? Math.round(gmv / orders) : 0, lang))}
        ${stat('offers', t.offers, s ? `${s.offers.issued} / ${s.offers.delivered} / ${s.offers.redeemed}` : '–')}
      </dl>
    </div>`;
  }

  private renderTrend(t: HostText, lang: Lang) {
    const mode = this.chartMode;
    const sales = mode === 'sales';
    const names: Record<string, string> = { ...t.tiers, ...t.lifecycle, ...t.sales };
    // beside the chart, the latest counts (sales: the current minute's)
    const trendLast = this.trend[this.trend.length - 1];
    const minuteLast = this.minutes[this.minutes.length - 1];
    const latest = (key: string): string => {
      if (mode !== 'sales') return trendLast ? String(pointValue(trendLast, mode, key)) : '–';
      if (!minuteLast) return '–';
      return key === 'gmv' ? this.money(minuteLast.gmv, lang) : String(minuteLast[key as 'watching' | 'orders']);
    };
    const points = sales ? this.minutes.length : this.trend.length;
    const tab = (m: ChartMode, label: string) =>
      html`<button type="button" class="tab" part="chart-mode" data-mode=${m} aria-pressed=${mode === m} @click=${() => (this.chartMode = m)}>${label}</button>`;
    return html`<div class="card wide" part="card" data-section="trend" data-mode=${mode}>
      <header>
        <h3>${t.trendHeading}</h3>
        <span class="tabs">${tab('tier', t.byTier)} ${tab('lifecycle', t.byLifecycle)} ${tab('sales', t.bySales)}</span>
      </header>
      <ul class="legend">
        ${SERIES[mode].map((s) => html`<li data-series=${s.key}><i class="swatch" data-series=${s.key}></i>${names[s.key]} <b>${latest(s.key)}</b></li>`)}
      </ul>
      <div class="chart" part="chart" data-points=${points} role="img" aria-label=${sales ? t.salesChart : t.trendHeading}></div>
      ${points < 2 ? html`<p class="muted">${sales ? t.salesEmpty : t.trendEmpty}</p>` : nothing}
    </div>`;
  }

  private renderFunnel(t: HostText, lang: Lang) {
    const f = this.funnel;
    const pct = (n: number, of: number) => (of ? `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format((n / of) * 100)}%` : '–');
    const cell = (counts: FunnelCounts | undefined, i: number) => {
      if (!counts) return html`<td>–</td>`;
      const step = FUNNEL_STEPS[i]!;
      const n = counts[step];
      return html`<td data-count=${n}>
        <b>${n}</b>${i > 0 ? html` <small class="rate">${pct(n, counts[FUNNEL_STEPS[i - 1]!])}</small>` : nothing}
      </td>`;
    };
    const k = f?.kpis;
    const share = (x: number) => `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(x * 100)}%`;
    const kpi = (key: string, value: string) => html`<div class="stat" part="kpi" data-kpi=${key}><dt>${t.kpis[key as keyof HostText['kpis']]}</dt><dd>${value}</dd></div>`;
    return html`<div class="card wide" part="card" data-section="funnel">
      <h3>${t.funnelHeading}</h3>
      ${k
        ? html`<dl class="stats kpis">
            ${kpi('gpm', this.money(k.gpm, lang))} ${kpi('uvValue', this.money(k.uvValue, lang))}
            ${kpi('avgWatch', t.duration(k.avgWatchSeconds))} ${kpi('peak', String(k.peakConnected))}
            ${kpi('commentRate', share(k.commentRate))} ${kpi('productClickRate', share(k.productClickRate))}
            ${kpi('addToCartRate', share(k.addToCartRate))} ${kpi('conversion', share(k.conversion))}
            ${kpi('newReturning', `${k.newViewers} / ${k.returningViewers}`)}
          </dl>`
        : nothing}
      <div class="scroll">
        <table part="funnel">
          <thead>
            <tr>
              <th></th>
              <th>${t.all}</th>
              ${TIER_ORDER.map((tier) => html`<th data-tier=${tier}>${t.tiers[tier]}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${FUNNEL_STEPS.map(
              (step, i) =>
                html`<tr data-step=${step}>
                  <th>${t.steps[step]}</th>
                  ${cell(f ?? undefined, i)} ${TIER_ORDER.map((tier) => cell(f?.byTier[tier], i))}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${f?.boughtWithoutCheckout ? html`<p class="muted" part="funnel-note" data-untracked=${f.boughtWithoutCheckout}>${t.boughtWithoutCheckout(f.boughtWithoutCheckout)}</p>` : nothing}
    </div>`;
  }

  private renderTop(t: HostText, lang: Lang) {
    const list = (key: string, title: string, viewers: ViewerListItem[] | null) =>
      html`<div class="top" data-list=${key}>
        <h4>${title}</h4>
        ${viewers === null
          ? html`<p class="muted">–</p>`
          : viewers.length === 0
            ? html`<p class="muted">${t.noViewers}</p>`
            : html`<ol>
                ${viewers.map(
                  (v) =>
                    html`<li>
                      <button type="button" class="viewer" part="viewer" data-viewer=${v.id} @click=${() => this.openViewer(v.id)}>
                        <span class="who"><span class="badge ${v.tier}">${t.tiers[v.tier] ?? v.tier}</span> ${v.id}</span>
                        <small class="reasons">${reasonsIn(v, lang).join(' · ')}</small>
                      </button>
                    </li>`,
                )}
              </ol>`}
      </div>`;
    return html`<div class="card wide" part="card" data-section="top">
      <h3>${t.topHeading}</h3>
      ${this.listError ? html`<p class="muted">${t.loadFailed(this.listError)}</p>` : nothing}
      <div class="tops">
        ${list('value', t.byValue, this.topByValue)} ${list('engagement', t.byEngagement, this.topByEngagement)}
        ${this.topByPredicted?.length === 0 ? html`<div class="top" data-list="predicted"><h4>${t.byPredicted}</h4><p class="muted">${t.noModel}</p></div>` : list('predicted', t.byPredicted, this.topByPredicted)}
      </div>
    </div>`;
  }

  private async openViewer(id: string) {
    const api = this.api();
    const fromList = [...(this.topByValue ?? []), ...(this.topByEngagement ?? []), ...(this.topByPredicted ?? [])].find((v) => v.id === id) ?? null;
    this.viewer = fromList;
    if (!api) return;
    try {
      this.viewer = await api.viewer(id);
    } catch (err) {
      this.listError = (err as Error).message;
    }
  }

  private renderViewer(t: HostText, lang: Lang) {
    const v = this.viewer!;
    const value = (key: string, n: number | null | undefined) => {
      if (n === null || n === undefined) return '–';
      if (key === 'spend') return this.money(n, lang);
      if (key.endsWith('At')) return new Date(n).toLocaleString(lang);
      if (key === 'watchSeconds') return `${Math.round(n / 60)} min`;
      return String(n);
    };
    const stats = (title: string, rec: Record<string, number | null> | undefined) =>
      rec
        ? html`<div>
            <h4>${title}</h4>
            <dl class="kv">
              ${Object.entries(rec).map(([k, n]) => html`<dt>${t.statNames[k] ?? k}</dt><dd>${value(k, n)}</dd>`)}
            </dl>
          </div>`
        : nothing;
    return html`<div class="card wide detail" part="card" data-section="viewer" data-viewer=${v.id}>
      <header>
        <h3>${t.detailHeading}: ${v.id}</h3>
        <button type="button" class="ghost" @click=${() => (this.viewer = null)}>${t.close}</button>
      </header>
      <p>
        <span class="badge ${v.tier}">${t.tiers[v.tier] ?? v.tier}</span>
        ${v.lifecycle ? html`<span class="badge">${t.lifecycle[v.lifecycle as keyof HostText['lifecycle']] ?? v.lifecycle}</span>` : nothing}
      </p>
      <ul class="reasons-list">
        ${reasonsIn(v, lang).map((r) => html`<li>${r}</li>`)}
      </ul>
      ${v.scores
        ? html`<dl class="kv">
            ${Object.entries(v.scores).map(([k, n]) => html`<dt>${t.scores[k] ?? k}</dt><dd>${n} / 5</dd>`)}
          </dl>`
        : nothing}
      <div class="tops">${stats(t.thisStream, v.thisStream)} ${stats(t.overall, v.stats)} ${this.renderPredicted(t, lang, v)}</div>
    </div>`;
  }

  private renderPredicted(t: HostText, lang: Lang, v: ViewerDetail) {
    const p = v.predicted;
    if (!p) return nothing;
    const share = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 });
    const orders = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    const money = (m: number) => formatMoney(m, p.currency || this.currency, lang);
    const shown: [string, string][] = [
      ['pAlive', share.format(p.pAlive)],
      ['expectedOrders90d', orders.format(p.expectedOrders90d)],
      ['expectedOrderValue', money(p.expectedOrderValue)],
      ['clv365d', money(p.clv365d)],
    ];
    return html`<div data-part="predicted">
      <h4>${t.predictedHeading}</h4>
      <dl class="kv">${shown.map(([k, s]) => html`<dt>${t.predicted[k] ?? k}</dt><dd data-predicted=${k}>${s}</dd>`)}</dl>
    </div>`;
  }

  private renderCampaigns(t: HostText, lang: Lang) {
    const c = t.campaignCols;
    const uplift = (k: CampaignItem) => upliftCell(k.stats?.uplift, t, lang);
    return html`<div class="card wide" part="card" data-section="campaigns">
      <h3>${t.campaignsHeading}</h3>
      ${this.campaigns === null
        ? html`<p class="muted">–</p>`
        : this.campaigns.length === 0
          ? html`<p class="muted">${t.noCampaigns}</p>`
          : html`<div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>${c.name}</th><th>${c.issued}</th><th>${c.delivered}</th><th>${c.seen}</th><th>${c.clicked}</th><th>${c.redeemed}</th>
                    <th>${c.budget}</th><th>${c.uplift}</th><th></th>
                  </tr>
                </thead>
                <tbody>
                  ${this.campaigns.map((k) => {
                    const st = k.stats;
                    const paused = k.status === 'paused';
                    return html`<tr part="campaign" data-campaign=${k.id} data-status=${k.status}>
                      <th>${textIn(k.name, k.i18n, 'name', lang)}${paused ? html` <small class="muted">(${t.paused})</small>` : nothing}</th>
                      <td data-stat="issued">${st?.issued ?? k.issued ?? 0}</td>
                      <td data-stat="delivered">${st?.delivered ?? '–'}</td>
                      <td data-stat="seen">${st?.seen ?? '–'}</td>
                      <td data-stat="clicked">${st?.clicked ?? '–'}</td>
                      <td data-stat="redeemed">${st?.redeemed ?? '–'}</td>
                      <td data-stat="budget">${k.budgetLeft === null ? t.unlimited : this.money(k.budgetLeft, lang)}</td>
                      <td>${uplift(k)}</td>
                      <td>
                        <button type="button" class="ghost" part="toggle" @click=${() => this.toggleCampaign(k)}>${paused ? t.resume : t.pause}</button>
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`}
    </div>`;
  }

  private async toggleCampaign(k: CampaignItem) {
    const api = this.api();
    if (!api) return;
    try {
      const updated = await api.setCampaignStatus(k.id, k.status === 'paused' ? 'active' : 'paused');
      this.campaigns = (this.campaigns ?? []).map((c) => (c.id === k.id ? { ...c, ...updated } : c));
    } catch (err) {
      this.listError = (err as Error).message;
    }
  }

  private renderActivity(t: HostText, lang: Lang) {
    const time = (at: number) => new Date(at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const line = (i: ActivityItem) => {
      if (i.type === 'purchase') return html`${t.bought(formatMoney(i.amount, i.currency || this.currency, lang))}`;
      if (i.type === 'tier') return html`${t.movedTo(t.tiers[i.from], t.tiers[i.to])}`;
      // a viewer's words: Lit renders them as text, never as HTML
      return html`${t.said}: <q class="comment">${i.text}</q>`;
    };
    return html`<div class="card" part="card" data-section="activity">
      <h3>${t.activityHeading}</h3>
      ${this.activity.length === 0
        ? html`<p class="muted">${t.noActivity}</p>`
        : html`<ol class="activity" aria-live="polite">
            ${this.activity.map(
              (i) =>
                html`<li part="activity" data-type=${i.type}>
                  <time>${time(i.at)}</time> <b class="who">${i.viewerId}</b> ${line(i)}
                </li>`,
            )}
          </ol>`}
    </div>`;
  }

  private renderForm(t: HostText) {
    return html`<div class="card" part="card" data-section="push">
      <form part="form" @submit=${this.onSubmit}>
        <h3>${t.pushHeading}</h3>
        <label
          >${t.tier}
          <select name="tier">
            ${TIER_ORDER.map((tier) => html`<option value=${tier}>${t.tiers[tier]}</option>`)}
          </select>
        </label>
        <label>${t.title} <input name="title" required maxlength="120" autocomplete="off" /></label>
        <label
          >${t.kind}
          <select name="kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as Discount['kind'])}>
            <option value="percent">${t.percent}</option>
            <option value="amount">${t.amount}</option>
          </select>
        </label>
        <label
          >${t.value(this.kind)}
          <input name="value" type="number" required min=${this.kind === 'percent' ? 1 : 0.01} max=${this.kind === 'percent' ? 100 : nothing} step=${this.kind === 'percent' ? 1 : 0.01} value="10" />
        </label>
        <label>${t.minutes} <input name="minutes" type="number" required min="1" max="43200" step="any" value="10" /></label>
        <label>${t.holdout} <input name="holdout" type="number" required min="0" max="50" step="1" value=${DEFAULT_PUSH_HOLDOUT} /></label>
        <button part="push" type="submit" ?disabled=${this.pushing}>${this.pushing ? t.pushing : t.push}</button>
        <p class="result ${this.result?.ok === false ? 'failed' : ''}" part="result" role="status">${this.result?.text ?? ''}</p>
      </form>
    </div>`;
  }

  private renderPoll(t: HostText, lang: Lang) {
    const p = this.poll;
    const max = p ? Math.max(1, ...p.counts) : 1;
    const open = p ? Date.now() < p.closesAt : false;
    return html`<div class="card" part="card" data-section="poll">
      <form part="poll-form" @submit=${this.onPoll}>
        <h3>${t.pollHeading}</h3>
        <label class="span">${t.question} <input name="question" required maxlength="200" autocomplete="off" /></label>
        <label>${t.seconds} <input name="seconds" type="number" required min="10" max="3600" step="1" value="120" /></label>
        <button type="submit">${t.openPoll}</button>
        ${this.pollMessage ? html`<p class="result failed" role="status">${this.pollMessage}</p>` : nothing}
      </form>
      ${p
        ? html`<div class="poll" part="poll-results" data-poll=${p.id} data-answers=${p.answers}>
            <p>
              <b>${p.question}</b>
              <small class="muted">${open ? t.pollOpenUntil(new Date(p.closesAt).toLocaleTimeString(lang)) : t.pollClosed}</small>
            </p>
            <ol class="bars">
              ${p.counts.map(
                (n, i) =>
                  html`<li data-value=${i + 1} data-count=${n}>
                    <span>${i + 1}</span><progress max=${max} .value=${n}></progress><b>${n}</b>
                  </li>`,
              )}
            </ol>
            <p class="muted">${t.answers(p.answers, p.average === null ? '' : String(p.average))}</p>
          </div>`
        : nothing}
    </div>`;
  }

  private async onSubmit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const field = (name: string) => (form.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLSelectElement).value;
    const request = buildPushRequest(
      {
        tier: field('tier') as Tier,
        title: field('title'),
        kind: field('kind') as Discount['kind'],
        value: Number(field('value')),
        minutes: Number(field('minutes')),
        holdoutPercent: Number(field('holdout')),
      },
      this.currency,
    );
    this.pushing = true;
    this.result = null;
    const ack = await this.push(request);
    this.pushing = false;
    const t = TEXT[resolveLang(this.lang)];
    this.result = 'error' in ack ? { ok: false, text: t.failed(ack.error.message) } : { ok: true, text: t.sent(ack.sent, ack.skipped, ack.held) };
    this.dispatchEvent(new CustomEvent('livetier-push', { detail: { request, ack }, bubbles: true, composed: true }));
    this.scheduleLists();
  }

  private async onPoll(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const field = (name: string) => (form.querySelector(`[name="${name}"]`) as HTMLInputElement).value;
    const request: PollOpenRequest = { question: field('question').trim(), seconds: Math.round(Number(field('seconds'))) };
    this.pollMessage = null;
    const ack = await this.openPoll(request);
    const t = TEXT[resolveLang(this.lang)];
    if ('error' in ack) this.pollMessage = t.pollFailed(ack.error.message);
    this.dispatchEvent(new CustomEvent('livetier-poll', { detail: { request, ack }, bubbles: true, composed: true }));
  }
}

if (!customElements.get('livetier-host-panel')) customElements.define('livetier-host-panel', LiveTierHostPanel);

declare global {
  interface HTMLElementTagNameMap {
    'livetier-host-panel': LiveTierHostPanel;
  }
  interface GlobalEventHandlersEventMap {
    'livetier-push': CustomEvent<{ request: HostPushRequest; ack: HostPushAck }>;
    'livetier-poll': CustomEvent<{ request: PollOpenRequest; ack: PollPayload | ErrorAck }>;
    'livetier-auth-error': CustomEvent<{ code: ErrorCode; message: string }>;
  }
}
