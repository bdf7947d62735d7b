/**
 * The channel page's sections as Lit templates, rendered into the page's own DOM (no shadow root).
 * Pure: the caller passes the overview (GET /v1/channels/:channel/overview) and the language;
 * nothing here fetches or reads the clock.
 *
 * Every section is a `<section data-section=…>` with an `<h2>`; each number shown also sits in a
 * `data-value` attribute (minor units, counts, shares) so tests read it without parsing text.
 * Stream titles (typed by merchants) are interpolated, which Lit escapes.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Tier } from '../../server/realtime/events.js';
import { formatMoney, minorDigits, type Lang } from '../locale.js';
import { upliftCell } from '../livetier-host-panel/pushes.js';
import { TEXT as HOST_TEXT } from '../livetier-host-panel/text.js';
import { formatCount, formatDateTime, formatShare } from '../livetier-report/format.js';
import { barChart } from './chart.js';
import { CHANNEL_TEXT } from './text.js';

const TIERS = ['high', 'mid', 'potential'] as const satisfies readonly Tier[];

export interface UpliftData {
  campaigns: number;
  absolute: number | null;
  ci95: [number, number] | null;
  n: { treated: number; control: number };
  conversions: { treated: number; control: number };
  enoughData: boolean;
}

export interface StreamData {
  id: string;
  title: string;
  startedAt: number;
  endedAt: number | null;
  lengthMs: number;
  audience: number;
  peak: number | null;
  gmv: number;
  orders: number;
  gpm: number;
  uvValue: number;
  conversion: number;
  returningShare: number;
  offers: { issued: number; redeemed: number };
  uplift: UpliftData;
}

export interface StreamTiersData {
  streamId: string;
  asOf: 'end' | 'now' | null;
  high: number | null;
  mid: number | null;
  potential: number | null;
  movedUp: number | null;
  movedDown: number | null;
}

/** GET /v1/channels/:channel/overview */
export interface OverviewData {
  channel: string;
  currency: string | null;
  streams: StreamData[];
  tiers: { now: Record<Tier, number>; perStream: StreamTiersData[] };
}

export interface OverviewView {
  data: OverviewData;
  lang: Lang;
  /** the currency to show amounts in (the channel's, else the page's guess) */
  currency: string;
}

type Ctx = OverviewView & { t: (typeof CHANNEL_TEXT)[Lang]; h: (typeof HOST_TEXT)[Lang]; money: (minor: number) => string; n: (x: number) => string };

export function renderOverview(view: OverviewView): TemplateResult {
  const c: Ctx = {
    ...view,
    t: CHANNEL_TEXT[view.lang],
    h: HOST_TEXT[view.lang],
    money: (minor) => formatMoney(minor, view.currency, view.lang),
    n: (x) => formatCount(x, view.lang),
  };
  return html`${header(c)} ${tiers(c)}
  ${c.data.streams.length ? html`${streams(c)} ${tierTable(c)} ${charts(c)}` : html`<p class="muted" data-part="empty">${c.t.noStreams}</p>`}`;
}

const section = (key: string, heading: string, body: unknown) =>
  html`<section class="section" data-section=${key} aria-labelledby=${`h-${key}`}>
    <h2 id=${`h-${key}`}>${heading}</h2>
    ${body}
  </section>`;

const stat = (key: string, label: unknown, value: string, raw: number | string) =>
  html`<div class="stat" data-stat=${key}>
    <dt>${label}</dt>
    <dd data-value=${raw}>${value}</dd>
  </div>`;

const time = (ms: number, lang: Lang) => html`<time datetime=${new Date(ms).toISOString()}>${formatDateTime(ms, lang)}</time>`;

/** a table in a box that scrolls on narrow screens (page.ts makes a box that overflows focusable) */
const scroll = (label: string, table: TemplateResult) => html`<div class="scroll" role="region" aria-label=${label}>${table}</div>`;

function header({ data, t, currency }: Ctx) {
  return html`<header class="report-head" data-section="header">
    <p class="kicker">${t.kicker}</p>
    <h1 data-field="channel">${data.channel}</h1>
    <p class="muted" data-field="shown" data-value=${data.streams.length}>
      ${data.streams.length ? t.streamsShown(data.streams.length) : t.noStreams} ${t.currency(currency)}
    </p>
  </header>`;
}

function tiers(c: Ctx) {
  const { data, t, h, n } = c;
  const latest = data.tiers.perStream[0];
  const latestStream = data.streams[0];
  return section(
    'tiers',
    t.sections.tiers,
    html`<h3>${t.now}</h3>
      <dl class="stats" data-part="now">
        ${TIERS.map((tier) => stat(tier, html`<span class="badge ${tier}">${h.tiers[tier]}</span>`, n(data.tiers.now[tier]), data.tiers.now[tier]))}
      </dl>
      ${latest && latestStream && latest.asOf !== null
        ? html`<h3>${t.latest(latestStream.title || latestStream.id)}</h3>
            <dl class="stats" data-part="moves">
              ${stat('movedUp', t.movedUp, `▲ ${n(latest.movedUp ?? 0)}`, latest.movedUp ?? 0)}
              ${stat('movedDown', t.movedDown, `▼ ${n(latest.movedDown ?? 0)}`, latest.movedDown ?? 0)}
            </dl>`
        : nothing}
      <p class="note">${t.notes.tiers}</p>`,
  );
}

function streams(c: Ctx) {
  const { data, lang, t, h, money, n } = c;
  const share = (x: number) => formatShare(x, lang);
  const cell = (col: string, raw: number | string, text: unknown) => html`<td class="num" data-col=${col} data-value=${raw}>${text}</td>`;
  return section(
    'streams',
    t.sections.streams,
    html`${scroll(
        t.sections.streams,
        html`<table class="data" data-part="streams">
          <thead>
            <tr>
              <th scope="col">${t.cols.stream}</th>
              <th scope="col">${t.cols.started}</th>
              <th scope="col" class="num">${t.cols.length}</th>
              <th scope="col" class="num">${t.cols.audience}</th>
              <th scope="col" class="num">${t.cols.peak}</th>
              <th scope="col" class="num">${h.gmv}</th>
              <th scope="col" class="num">${t.cols.orders}</th>
              <th scope="col" class="num">${h.kpis.gpm}</th>
              <th scope="col" class="num">${h.kpis.uvValue}</th>
              <th scope="col" class="num">${h.kpis.conversion}</th>
              <th scope="col" class="num">${t.cols.returning}</th>
              <th scope="col" class="num">${t.cols.offers}</th>
              <th scope="col">${h.campaignCols.uplift}</th>
            </tr>
          </thead>
          <tbody>
            ${data.streams.map(
              (s) => html`<tr data-stream=${s.id}>
                <th scope="row">${s.title || s.id}${s.endedAt === null ? html` <small class="badge live">${t.live}</small>` : nothing}</th>
                <td>${time(s.startedAt, lang)}</td>
                ${cell('length', s.lengthMs, t.length(s.lengthMs))} ${cell('audience', s.audience, n(s.audience))}
                ${cell('peak', s.peak ?? '', s.peak === null ? '–' : n(s.peak))} ${cell('gmv', s.gmv, money(s.gmv))} ${cell('orders', s.orders, n(s.orders))}
                ${cell('gpm', s.gpm, money(s.gpm))} ${cell('uvValue', s.uvValue, money(s.uvValue))} ${cell('conversion', s.conversion, share(s.conversion))}
                ${cell('returningShare', s.returningShare, share(s.returningShare))}
                ${cell('offers', `${s.offers.issued}/${s.offers.redeemed}`, `${n(s.offers.issued)} / ${n(s.offers.redeemed)}`)}
                <td data-col="uplift" data-campaigns=${s.uplift.campaigns}>${s.uplift.campaigns ? upliftCell(s.uplift, h, lang) : html`<span class="muted">${t.noHoldout}</span>`}</td>
              </tr>`,
            )}
          </tbody>
        </table>`,
      )}
      <p class="note">${t.notes.uplift}</p>`,
  );
}

function tierTable(c: Ctx) {
  const { data, t, h, n } = c;
  const title = new Map(data.streams.map((s) => [s.id, s.title || s.id]));
  const num = (col: string, v: number | null) => html`<td class="num" data-col=${col} data-value=${v ?? ''}>${v === null ? '–' : n(v)}</td>`;
  return section(
    'tier-table',
    t.sections.tierTable,
    scroll(
      t.sections.tierTable,
      html`<table class="data" data-part="tiers">
        <thead>
          <tr>
            <th scope="col">${t.cols.stream}</th>
            <th scope="col">${t.cols.asOf}</th>
            ${TIERS.map((tier) => html`<th scope="col" class="num">${h.tiers[tier]}</th>`)}
            <th scope="col" class="num">${t.movedUp}</th>
            <th scope="col" class="num">${t.movedDown}</th>
          </tr>
        </thead>
        <tbody>
          ${data.tiers.perStream.map(
            (p) => html`<tr data-stream=${p.streamId}>
              <th scope="row">${title.get(p.streamId) ?? p.streamId}</th>
              <td data-col="asOf" data-value=${p.asOf ?? ''}>${p.asOf === null ? t.asOf.none : t.asOf[p.asOf]}</td>
              ${num('high', p.high)} ${num('mid', p.mid)} ${num('potential', p.potential)} ${num('movedUp', p.movedUp)} ${num('movedDown', p.movedDown)}
            </tr>`,
          )}
        </tbody>
      </table>`,
    ),
  );
}

function charts(c: Ctx) {
  const { data, lang, t, money, n } = c;
  // oldest on the left: time runs the way it reads
  const shown = [...data.streams].reverse();
  const tiersOf = new Map(data.tiers.perStream.map((p) => [p.streamId, p]));
  const day = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric' });
  const labels = shown.map((s) => day.format(s.startedAt));
  const compact = (x: number) => new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 }).format(x);
  return section(
    'charts',
    t.sections.charts,
    html`<div class="charts">
        ${barChart({
          id: 'chart-gmv',
          title: t.charts.gmvAudience,
          desc: t.charts.gmvAudienceDesc(shown.length),
          labels,
          series: [
            { key: 'gmv', label: t.charts.gmv, values: shown.map((s) => s.gmv), format: (x) => (x >= 1_000_000 ? compactMoney(x, c) : money(x)) },
            { key: 'audience', label: t.charts.audience, values: shown.map((s) => s.audience), format: compact },
          ],
        })}
        ${barChart({
          id: 'chart-high',
          title: t.charts.highValue,
          desc: t.charts.highValueDesc(shown.length),
          labels,
          series: [{ key: 'high', label: t.charts.high, values: shown.map((s) => tiersOf.get(s.id)?.high ?? null), format: n }],
          notes: shown.map((s) => {
            const p = tiersOf.get(s.id);
            return p && p.movedUp !== null && p.movedDown !== null ? `▲${n(p.movedUp)} ▼${n(p.movedDown)}` : '';
          }),
        })}
      </div>
      <p class="note">${t.charts.tableNote}</p>`,
  );
}

/** a big amount shortened for a bar's label (`¥12K`); the table has it in full */
function compactMoney(minor: number, c: Ctx): string {
  const digits = minorDigits(c.currency);
  try {
    return new Intl.NumberFormat(c.lang, { style: 'currency', currency: c.currency, currencyDisplay: 'narrowSymbol', notation: 'compact', maximumFractionDigits: 1 }).format(
      minor / 10 ** digits,
    );
  } catch {
    return c.money(minor);
  }
}
