import { LitElement, html, nothing, type PropertyDeclarations } from 'lit';
import type { Discount, ErrorCode, HostPushAck, HostPushRequest, StreamSummary, Tier } from '../../server/realtime/events.js';
import { formatMoney, resolveLang, type Lang } from '../locale.js';
import { HostConnection, type HostProblem, type HostStatus } from './connection.js';
import { buildPushRequest } from './push.js';
import { styles } from './element.styles.js';

const TIER_ORDER = ['high', 'mid', 'potential'] as const satisfies readonly Tier[];

const TEXT = {
  en: {
    tiers: { high: 'High value', mid: 'Mid value', potential: 'Potential' },
    connected: 'Watching now',
    audience: 'Audience',
    orders: 'Orders',
    gmv: 'GMV',
    offers: 'Offers issued / delivered / redeemed',
    status: { idle: 'Not connected', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', refused: 'Disconnected' },
    problems: {
      unauthorized: 'Wrong host key',
      forbidden: 'This key may not open the stream',
      not_found: 'Unknown stream',
      bad_request: 'A stream id and a host key are required',
      origin_not_allowed: 'This page may not connect to the stream',
      network: 'Cannot reach the server, retrying…',
    } as Partial<Record<NonNullable<HostProblem>, string>>,
    pushHeading: 'Push an offer',
    tier: 'Tier',
    title: 'Title',
    kind: 'Discount',
    percent: 'Percent off',
    amount: 'Amount off',
    value: (kind: Discount['kind']) => (kind === 'percent' ? 'Value (%)' : 'Value'),
    minutes: 'Duration (minutes)',
    push: 'Push',
    pushing: 'Pushing…',
    sent: (sent: number, skipped: number) => `Sent to ${sent} ${sent === 1 ? 'viewer' : 'viewers'}` + (skipped ? `, ${skipped} skipped` : ''),
    failed: (message: string) => `Push failed: ${message}`,
  },
  'zh-CN': {
    tiers: { high: '高价值', mid: '中价值', potential: '潜力' },
    connected: '在线观众',
    audience: '累计观众',
    orders: '订单',
    gmv: '成交额',
    offers: '已发券 / 已送达 / 已核销',
    status: { idle: '未连接', connecting: '连接中…', live: '直播中', reconnecting: '重新连接中…', refused: '已断开' },
    problems: {
      unauthorized: '主播密钥错误',
      forbidden: '该密钥无权打开此直播',
      not_found: '找不到该直播',
      bad_request: '需要直播 ID 和主播密钥',
      origin_not_allowed: '此页面无权连接该直播',
      network: '无法连接服务器，正在重试…',
    } as Partial<Record<NonNullable<HostProblem>, string>>,
    pushHeading: '推送优惠券',
    tier: '人群',
    title: '标题',
    kind: '优惠方式',
    percent: '折扣（百分比）',
    amount: '立减金额',
    value: (kind: Discount['kind']) => (kind === 'percent' ? '优惠幅度（%）' : '金额'),
    minutes: '有效期（分钟）',
    push: '推送',
    pushing: '推送中…',
    sent: (sent: number, skipped: number) => `已推送给 ${sent} 位观众` + (skipped ? `，跳过 ${skipped} 位` : ''),
    failed: (message: string) => `推送失败：${message}`,
  },
} satisfies Record<Lang, unknown>;

/**
 * @summary The host's live view of a stream: viewers by tier, audience, orders and GMV, and a
 * one-click push of an offer to a tier.
 *
 * Connects to the server's `/host` namespace with `{ streamId, hostKey }` and re-renders on every
 * `snapshot` and `update`. Set `summary` directly to render without a server.
 *
 * @attr server - origin of the LiveTier server, e.g. `https://live.example`
 * @attr stream - stream id
 * @attr host-key - the stream's host key (from `POST /v1/streams`); keep it out of public pages
 * @attr lang - `en` or `zh-CN`; default: the page's `<html lang>`, else English
 * @attr currency - ISO 4217 code used to show GMV and to read amounts typed in the push form (major units); default: GMV as a plain number with 2 decimals
 *
 * @fires livetier-push - a push was answered (bubbles, composed); `detail` is `{ request, ack }`
 * @fires livetier-auth-error - the server refused the host key (bubbles, composed); `detail` is `{ code, message }`
 *
 * @csspart panel - the whole panel
 * @csspart status - the connection status
 * @csspart error - why the panel is not connected
 * @csspart tier - one tier's count (`data-tier="high" | "mid" | "potential"`)
 * @csspart stat - one figure (`data-stat="connected" | "audience" | "orders" | "gmv" | "offers"`)
 * @csspart form - the push form
 * @csspart push - the Push button
 * @csspart result - the push's answer
 *
 * @cssprop --livetier-accent - accent colour
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
    kind: { state: true },
    pushing: { state: true },
    result: { state: true },
  };

  /** origin of the LiveTier server */
  declare server: string | undefined;
  /** stream id */
  declare stream: string | undefined;
  /** the stream's host key (attribute `host-key`) */
  declare hostKey: string | undefined;
  /** `en` or `zh-CN` for the built-in text */
  declare lang: string;
  /** ISO 4217 code for GMV and the amounts typed in the push form */
  declare currency: string | undefined;
  /** the latest figures (set by the server's `snapshot`/`update`, or directly) */
  declare summary: StreamSummary | null;
  declare private kind: Discount['kind'];
  declare private pushing: boolean;
  declare private result: { ok: boolean; text: string } | null;

  private readonly connection = new HostConnection(
    this,
    () => (this.server && this.stream && this.hostKey ? { server: this.server, streamId: this.stream, hostKey: this.hostKey } : null),
    (summary) => (this.summary = summary),
    (code, message) => {
      if (code === 'unauthorized' || code === 'forbidden') {
        this.dispatchEvent(new CustomEvent('livetier-auth-error', { detail: { code, message }, bubbles: true, composed: true }));
      }
    },
  );

  constructor() {
    super();
    this.summary = null;
    this.kind = 'percent';
    this.pushing = false;
    this.result = null;
  }

  /** The connection: `idle`, `connecting`, `live`, `reconnecting` or `refused`. */
  get status(): HostStatus {
    return this.connection.status;
  }

  /** Pushes an offer to a tier (what the form's Push button calls). */
  push(request: HostPushRequest): Promise<HostPushAck> {
    return this.connection.push(request);
  }

  override render() {
    const lang = resolveLang(this.lang);
    const t = TEXT[lang];
    const s = this.summary;
    const problem = this.connection.problem;
    const stat = (key: string, label: string, value: string) =>
      html`<div class="stat" part="stat" data-stat=${key}>
        <dt>${label}</dt>
        <dd>${value}</dd>
      </div>`;
    const count = (n: number | undefined) => (n === undefined ? '–' : String(n));
    return html`<section class="panel" part="panel">
      <header>
        <h2>${s?.title || this.stream || ''}</h2>
        <span class="status ${this.status}" part="status" role="status">${t.status[this.status]}</span>
      </header>
      ${problem && t.problems[problem] ? html`<p class="error" part="error" role="alert">${t.problems[problem]}</p>` : nothing}
      <div class="tiers">
        ${TIER_ORDER.map(
          (tier) =>
            html`<div class="tier ${tier}" part="tier" data-tier=${tier} data-value=${s ? s.tiers[tier] : nothing}>
              <span class="label">${t.tiers[tier]}</span>
              <span class="count">${count(s?.tiers[tier])}</span>
            </div>`,
        )}
      </div>
      <dl class="stats">
        ${stat('connected', t.connected, count(s?.connected))} ${stat('audience', t.audience, count(s?.audience))}
        ${stat('orders', t.orders, count(s?.orders))} ${stat('gmv', t.gmv, s ? formatMoney(s.gmv, this.currency, lang) : '–')}
        ${stat('offers', t.offers, s ? `${s.offers.issued} / ${s.offers.delivered} / ${s.offers.redeemed}` : '–')}
      </dl>
      ${this.renderForm(t)}
    </section>`;
  }

  private renderForm(t: (typeof TEXT)[Lang]) {
    return html`<form part="form" @submit=${this.onSubmit}>
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
      <button part="push" type="submit" ?disabled=${this.pushing}>${this.pushing ? t.pushing : t.push}</button>
      <p class="result ${this.result?.ok === false ? 'failed' : ''}" part="result" role="status">${this.result?.text ?? ''}</p>
    </form>`;
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
      },
      this.currency,
    );
    this.pushing = true;
    this.result = null;
    const ack = await this.push(request);
    this.pushing = false;
    const t = TEXT[resolveLang(this.lang)];
    this.result = 'error' in ack ? { ok: false, text: t.failed(ack.error.message) } : { ok: true, text: t.sent(ack.sent, ack.skipped) };
    this.dispatchEvent(new CustomEvent('livetier-push', { detail: { request, ack }, bubbles: true, composed: true }));
  }
}

if (!customElements.get('livetier-host-panel')) customElements.define('livetier-host-panel', LiveTierHostPanel);

declare global {
  interface HTMLElementTagNameMap {
    'livetier-host-panel': LiveTierHostPanel;
  }
  interface GlobalEventHandlersEventMap {
    'livetier-push': CustomEvent<{ request: HostPushRequest; ack: HostPushAck }>;
    'livetier-auth-error': CustomEvent<{ code: ErrorCode; message: string }>;
  }
}
