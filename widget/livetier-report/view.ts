/**
 * The report page's sections as Lit templates, rendered into the page's own DOM (no shadow root,
 * so the page's print styles reach every table). Pure: the caller passes the report, the lists it
 * fetched beside it and the language; nothing here fetches or reads the clock.
 *
 * Every section is a `<section data-section=…>` with an `<h2>`; numbers shown also sit in
 * `data-value` attributes (minor units, counts, shares) so tests read them without parsing text.
 * Text a merchant or viewer typed (titles, campaign names, poll questions, viewer ids) is
 * interpolated, which Lit escapes.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { FunnelCounts, StreamKpis, Tier } from '../../server/realtime/events.js';
import { formatMoney, type Lang } from '../locale.js';
import type { CampaignItem, PushItem } from '../livetier-host-panel/api.js';
import { renderPushes, upliftCell } from '../livetier-host-panel/pushes.js';
import { segmentTraits, type SegmentsData } from '../livetier-host-panel/segments.js';
import { FUNNEL_STEPS, LIFECYCLES, TEXT as HOST_TEXT } from '../livetier-host-panel/text.js';
import { formatCount, formatDateTime, formatLength, formatShare, formatTime, shareOf } from './format.js';
import { REPORT_TEXT } from './text.js';

const TIERS = ['high', 'mid', 'potential'] as const satisfies readonly Tier[];

/** GET /v1/streams/:id/report, as the page reads it; the optional fields are shown when a server sends them */
export interface ReportData {
  streamId: string;
  title: string;
  channel: string;
  createdAt: number;
  endedAt: number | null;
  generatedAt: number;
  audience: number;
  connected: number;
  peakConnected: number;
  /** viewers connected now, by tier */
  tiers: Record<Tier, number>;
  orders: number;
  gmv: number;
  aov: number;
  kpis: StreamKpis;
  funnel: FunnelCounts & {
    byTier: Record<Tier, FunnelCounts>;
    conversion: { productViews: number; addToCarts: number; checkouts: number; purchases: number; overall: number };
  };
  offers: {
    issued: number;
    delivered: number;
    redeemed: number;
    byCampaign: { campaign: string; title: string; issued: number; delivered: number; seen: number; clicked: number; redeemed: number }[];
  };
  topBuyers: { viewerId: string; orders: number; spend: number }[];
  polls: { id: string; question: string; openedAt: number; closesAt: number; counts: number[]; answers: number; average: number | null }[];
  /** the channel's currency (ISO 4217), when the report carries it */
  currency?: string;
  /** the stream's viewers by lifecycle stage, when the report carries them */
  lifecycle?: Record<string, number>;
}

/** a viewer with the channel model's prediction (GET …/viewers?sort=predicted) */
export interface PredictedViewer {
  id: string;
  tier: Tier;
  predicted?: { pAlive: number; expectedOrders90d: number; expectedOrderValue: number; clv365d: number; currency: string } | null;
}

export interface ReportView {
  report: ReportData;
  lang: Lang;
  currency: string;
  /** the stream's campaigns with their uplift (null: could not be read; the report's counts are shown instead) */
  campaigns: CampaignItem[] | null;
  /** the host's pushes, newest first (null: could not be read) */
  pushes: PushItem[] | null;
  /** viewers connected now by lifecycle stage (the summary's), shown while some are watching */
  lifecycleNow: Record<string, number> | null;
  /** the segments the channel's model found (null: none, or could not be read: no section) */
  segments?: SegmentsData | null;
  /** the stream's viewers with the highest predicted value (null or empty: no model yet, no section) */
  predicted?: PredictedViewer[] | null;
}

type Ctx = ReportView & { t: (typeof REPORT_TEXT)[Lang]; h: (typeof HOST_TEXT)[Lang]; money: (minor: number) => string };

export function renderReport(view: ReportView): TemplateResult {
  const c: Ctx = {
    ...view,
    t: REPORT_TEXT[view.lang],
    h: HOST_TEXT[view.lang],
    money: (minor) => formatMoney(minor, view.currency, view.lang),
  };
  return html`${header(c)} ${summary(c)} ${kpis(c)} ${tiers(c)} ${funnel(c)} ${campaigns(c)} ${buyers(c)} ${polls(c)} ${segments(c)}
  ${predicted(c)}`;
}

const stat = (key: string, label: string, value: string, raw: number | string) =>
  html`<div class="stat" data-stat=${key}>
    <dt>${label}</dt>
    <dd data-value=${raw}>${value}</dd>
  </div>`;

const section = (key: string, heading: string, body: unknown) =>
  html`<section class="section" data-section=${key} aria-labelledby=${`h-${key}`}>
    <h2 id=${`h-${key}`}>${heading}</h2>
    ${body}
  </section>`;

function header({ report: r, lang, currency, t }: Ctx) {
  const item = (key: string, label: string, value: unknown, dateTime?: number) =>
    html`<div data-meta=${key}>
      <dt>${label}</dt>
      <dd>${dateTime === undefined ? value : html`<time datetime=${new Date(dateTime).toISOString()}>${value}</time>`}</dd>
    </div>`;
  return html`<header class="report-head" data-section="header">
    <p class="kicker">LiveTier · ${t.heading}</p>
    <h1 data-field="title">${r.title || r.streamId}</h1>
    <dl class="meta">
      ${item('stream', t.meta.stream, r.streamId)} ${item('channel', t.meta.channel, r.channel)}
      ${item('started', t.meta.started, formatDateTime(r.createdAt, lang), r.createdAt)}
      ${r.endedAt === null ? item('ended', t.meta.ended, t.stillLive) : item('ended', t.meta.ended, formatDateTime(r.endedAt, lang), r.endedAt)}
      ${item('length', t.meta.length, formatLength(r, t))} ${item('currency', t.meta.currency, currency)}
      ${item('generated', t.meta.generated, formatDateTime(r.generatedAt, lang), r.generatedAt)}
    </dl>
  </header>`;
}

function summary({ report: r, lang, t, h, money }: Ctx) {
  const n = (x: number) => formatCount(x, lang);
  return section(
    'summary',
    t.sections.summary,
    html`<dl class="stats">
      ${stat('audience', t.summary.audience, n(r.audience), r.audience)} ${stat('peak', t.summary.peak, n(r.peakConnected), r.peakConnected)}
      ${stat('orders', h.orders, n(r.orders), r.orders)} ${stat('buyers', t.summary.buyers, n(r.funnel.purchases), r.funnel.purchases)}
      ${stat('gmv', h.gmv, money(r.gmv), r.gmv)} ${stat('aov', h.aov, money(r.aov), r.aov)}
      ${stat('offers', h.offers, `${n(r.offers.issued)} / ${n(r.offers.delivered)} / ${n(r.offers.redeemed)}`, `${r.offers.issued}/${r.offers.delivered}/${r.offers.redeemed}`)}
    </dl>`,
  );
}

function kpis({ report: r, lang, t, h, money }: Ctx) {
  const k = r.kpis;
  const share = (x: number) => formatShare(x, lang);
  const kpi = (key: keyof typeof h.kpis, value: string, raw: number | string) => stat(key, h.kpis[key], value, raw);
  return section(
    'kpis',
    t.sections.kpis,
    html`<dl class="stats kpis">
      ${kpi('gpm', money(k.gpm), k.gpm)} ${kpi('uvValue', money(k.uvValue), k.uvValue)}
      ${kpi('avgWatch', h.duration(k.avgWatchSeconds), k.avgWatchSeconds)} ${kpi('peak', formatCount(k.peakConnected, lang), k.peakConnected)}
      ${kpi('commentRate', share(k.commentRate), k.commentRate)} ${kpi('productClickRate', share(k.productClickRate), k.productClickRate)}
      ${kpi('addToCartRate', share(k.addToCartRate), k.addToCartRate)} ${kpi('conversion', share(k.conversion), k.conversion)}
      ${kpi('newReturning', `${formatCount(k.newViewers, lang)} / ${formatCount(k.returningViewers, lang)}`, `${k.newViewers}/${k.returningViewers}`)}
    </dl>`,
  );
}

function tiers({ report: r, lang, t, h, lifecycleNow }: Ctx) {
  const live = r.endedAt === null;
  const n = (x: number) => formatCount(x, lang);
  const lifecycle = r.lifecycle ?? (live && r.connected > 0 ? lifecycleNow : null);
  return section(
    'tiers',
    t.sections.tiers,
    html`<div class="scroll" role="region" aria-label=${t.sections.tiers}><table class="data">
        <thead>
          <tr>
            <th scope="col">${t.tierCols.tier}</th>
            <th scope="col" class="num">${t.tierCols.viewers}</th>
            <th scope="col" class="num">${t.tierCols.buyers}</th>
            <th scope="col" class="num">${t.tierCols.conversion}</th>
            ${live ? html`<th scope="col" class="num">${t.tierCols.now}</th>` : nothing}
          </tr>
        </thead>
        <tbody>
          ${TIERS.map((tier) => {
            const f = r.funnel.byTier[tier];
            return html`<tr data-tier=${tier}>
              <th scope="row"><span class="badge ${tier}">${h.tiers[tier]}</span></th>
              <td class="num" data-value=${f.viewers}>${n(f.viewers)}</td>
              <td class="num" data-value=${f.purchases}>${n(f.purchases)}</td>
              <td class="num">${formatShare(shareOf(f.purchases, f.viewers), lang)}</td>
              ${live ? html`<td class="num" data-now=${r.tiers[tier]}>${n(r.tiers[tier])}</td>` : nothing}
            </tr>`;
          })}
        </tbody>
      </table></div>
      <p class="note">${t.tiersNote}</p>
      ${lifecycle
        ? html`<div class="scroll" role="region" aria-label=${t.lifecycleCaption}><table class="data" data-part="lifecycle">
            <caption>${r.lifecycle ? t.sections.tiers : t.lifecycleCaption}</caption>
            <thead>
              <tr>
                <th scope="col">${t.lifecycleCols.stage}</th>
                <th scope="col" class="num">${t.lifecycleCols.viewers}</th>
              </tr>
            </thead>
            <tbody>
              ${LIFECYCLES.map(
                (stage) => html`<tr data-lifecycle=${stage}>
                  <th scope="row">${h.lifecycle[stage]}</th>
                  <td class="num" data-value=${lifecycle[stage] ?? 0}>${n(lifecycle[stage] ?? 0)}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
        : nothing}`,
  );
}

function funnel({ report: r, lang, t, h }: Ctx) {
  const f = r.funnel;
  const cell = (counts: FunnelCounts, i: number, rate?: number) => {
    const step = FUNNEL_STEPS[i]!;
    const count = counts[step];
    const share = rate ?? shareOf(count, counts[FUNNEL_STEPS[i - 1]!] ?? 0);
    return html`<td class="num" data-count=${count} data-rate=${i > 0 ? share : nothing}>
      ${formatCount(count, lang)}${i > 0 ? html` <small class="rate">${formatShare(share, lang)}</small>` : nothing}
    </td>`;
  };
  return section(
    'funnel',
    h.funnelHeading,
    html`<div class="scroll" role="region" aria-label=${h.funnelHeading}><table class="data" data-part="funnel">
        <thead>
          <tr>
            <th scope="col">${t.funnelCols.step}</th>
            <th scope="col" class="num">${h.all}</th>
            ${TIERS.map((tier) => html`<th scope="col" class="num" data-tier=${tier}>${h.tiers[tier]}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${FUNNEL_STEPS.map(
            (step, i) => html`<tr data-step=${step}>
              <th scope="row">${h.steps[step]}</th>
              ${cell(f, i, step === 'viewers' ? undefined : f.conversion[step])} ${TIERS.map((tier) => cell(f.byTier[tier], i))}
            </tr>`,
          )}
        </tbody>
      </table></div>
      <p class="note">${t.funnelNote(formatShare(f.conversion.overall, lang))}</p>
      ${f.boughtWithoutCheckout
        ? html`<p class="note" data-part="funnel-note" data-untracked=${f.boughtWithoutCheckout}>${h.boughtWithoutCheckout(f.boughtWithoutCheckout)}</p>`
        : nothing}`,
  );
}

function campaigns(c: Ctx) {
  const { report: r, lang, t, h, money } = c;
  const col = h.campaignCols;
  const n = (x: number | undefined) => formatCount(x ?? 0, lang);
  const rows = c.campaigns
    ? c.campaigns
        .filter((x) => !x.adhoc)
        .map((x) => ({ id: x.id, name: x.name, paused: x.status === 'paused', stats: x.stats ?? { issued: x.issued ?? 0, delivered: 0, seen: 0, clicked: 0, redeemed: 0 }, uplift: x.stats?.uplift }))
    : r.offers.byCampaign.map((x) => ({ id: x.campaign, name: x.title, paused: false, stats: x, uplift: undefined }));
  const table = rows.length
    ? html`<div class="scroll" role="region" aria-label=${h.campaignsHeading}><table class="data" data-part="campaigns">
        <thead>
          <tr>
            <th scope="col">${col.name}</th>
            <th scope="col" class="num">${col.issued}</th>
            <th scope="col" class="num">${col.delivered}</th>
            <th scope="col" class="num">${col.seen}</th>
            <th scope="col" class="num">${col.clicked}</th>
            <th scope="col" class="num">${col.redeemed}</th>
            ${c.campaigns ? html`<th scope="col">${col.uplift}</th>` : nothing}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (x) => html`<tr data-campaign=${x.id}>
              <th scope="row">${x.name}${x.paused ? html` <small class="muted">(${h.paused})</small>` : nothing}</th>
              <td class="num" data-stat="issued">${n(x.stats.issued)}</td>
              <td class="num" data-stat="delivered">${n(x.stats.delivered)}</td>
              <td class="num" data-stat="seen">${n(x.stats.seen)}</td>
              <td class="num" data-stat="clicked">${n(x.stats.clicked)}</td>
              <td class="num" data-stat="redeemed">${n(x.stats.redeemed)}</td>
              ${c.campaigns ? html`<td>${upliftCell(x.uplift, h, lang)}</td>` : nothing}
            </tr>`,
          )}
        </tbody>
      </table></div>`
    : html`<p class="muted">${h.noCampaigns}</p>`;
  return section(
    'campaigns',
    t.sections.campaigns,
    html`<div class="sub" data-part="campaign-list">
        <h3>${h.campaignsHeading}</h3>
        ${table}
      </div>
      ${renderPushes(c.pushes, h, lang, money)} ${c.pushes && c.pushes.length >= PUSHES_SHOWN ? html`<p class="note">${t.pushesShown(c.pushes.length)}</p>` : nothing}
      <p class="note">${t.upliftNote}</p>`,
  );
}

/** the most pushes the page lists (the newest; GET …/pushes pages beyond that) */
export const PUSHES_SHOWN = 100;
/** the stream's viewers the page lists by predicted value */
export const PREDICTED_SHOWN = 10;

function buyers({ report: r, lang, t, money }: Ctx) {
  return section(
    'buyers',
    t.sections.buyers,
    r.topBuyers.length
      ? html`<div class="scroll" role="region" aria-label=${t.sections.buyers}><table class="data" data-part="buyers">
          <thead>
            <tr>
              <th scope="col" class="num rank">${t.buyerCols.rank}</th>
              <th scope="col">${t.buyerCols.viewer}</th>
              <th scope="col" class="num">${t.buyerCols.orders}</th>
              <th scope="col" class="num">${t.buyerCols.spend}</th>
            </tr>
          </thead>
          <tbody>
            ${r.topBuyers.map(
              (b, i) => html`<tr data-buyer=${b.viewerId}>
                <td class="num rank">${formatCount(i + 1, lang)}</td>
                <th scope="row">${b.viewerId}</th>
                <td class="num" data-value=${b.orders}>${formatCount(b.orders, lang)}</td>
                <td class="num" data-value=${b.spend}>${money(b.spend)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`
      : html`<p class="muted">${t.noBuyers}</p>`,
  );
}

function polls({ report: r, lang, t }: Ctx) {
  const avg = (x: number | null) => (x === null ? '–' : new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(x));
  return section(
    'polls',
    t.sections.polls,
    r.polls.length
      ? html`<div class="scroll" role="region" aria-label=${t.sections.polls}><table class="data" data-part="polls">
          <thead>
            <tr>
              <th scope="col">${t.pollCols.question}</th>
              <th scope="col">${t.pollCols.opened}</th>
              <th scope="col" class="num">${t.pollCols.answers}</th>
              <th scope="col" class="num">${t.pollCols.average}</th>
              <th scope="col">${t.pollCols.ratings}</th>
            </tr>
          </thead>
          <tbody>
            ${r.polls.map(
              (p) => html`<tr data-poll=${p.id}>
                <th scope="row">${p.question}</th>
                <td><time datetime=${new Date(p.openedAt).toISOString()}>${formatTime(p.openedAt, lang)}</time></td>
                <td class="num" data-value=${p.answers}>${formatCount(p.answers, lang)}</td>
                <td class="num">${avg(p.average)}</td>
                <td>${p.counts.map((n, i) => `${i + 1}: ${formatCount(n, lang)}`).join(' · ')}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`
      : html`<p class="muted">${t.noPolls}</p>`,
  );
}

function segments({ segments: data, lang, t }: Ctx) {
  if (!data || data.k === 0 || !data.segments.length) return nothing;
  return section(
    'segments',
    t.sections.segments,
    html`<div class="scroll" role="region" aria-label=${t.sections.segments}><table class="data" data-part="segments">
        <thead>
          <tr>
            <th scope="col">${t.segmentCols.segment}</th>
            <th scope="col" class="num">${t.segmentCols.buyers}</th>
            <th scope="col" class="num">${t.segmentCols.share}</th>
            <th scope="col" class="num">${t.segmentCols.gmvShare}</th>
            <th scope="col">${t.segmentCols.traits}</th>
          </tr>
        </thead>
        <tbody>
          ${data.segments.map(
            (s, i) => html`<tr data-segment=${s.id}>
              <th scope="row">${t.segmentName(i + 1)}</th>
              <td class="num" data-value=${s.buyers}>${formatCount(s.buyers, lang)}</td>
              <td class="num" data-value=${s.share}>${formatShare(s.share, lang)}</td>
              <td class="num" data-value=${s.gmvShare}>${formatShare(s.gmvShare, lang)}</td>
              <td>${segmentTraits(s, lang)}</td>
            </tr>`,
          )}
        </tbody>
      </table></div>
      <p class="note">${t.segmentsNote(data.buyers)}</p>`,
  );
}

function predicted({ predicted: viewers, lang, t, h, currency }: Ctx) {
  const shown = (viewers ?? []).filter((v) => v.predicted);
  if (!shown.length) return nothing;
  const money = (minor: number, code?: string) => formatMoney(minor, code ?? currency, lang);
  return section(
    'predicted',
    t.sections.predicted,
    html`<div class="scroll" role="region" aria-label=${t.sections.predicted}><table class="data" data-part="predicted">
        <thead>
          <tr>
            <th scope="col" class="num rank">${t.buyerCols.rank}</th>
            <th scope="col">${t.buyerCols.viewer}</th>
            <th scope="col">${t.predictedCols.tier}</th>
            <th scope="col" class="num">${t.predictedCols.pAlive}</th>
            <th scope="col" class="num">${t.predictedCols.expectedOrders90d}</th>
            <th scope="col" class="num">${t.predictedCols.clv365d}</th>
          </tr>
        </thead>
        <tbody>
          ${shown.map((v, i) => {
            const p = v.predicted!;
            return html`<tr data-viewer=${v.id}>
              <td class="num rank">${formatCount(i + 1, lang)}</td>
              <th scope="row">${v.id}</th>
              <td><span class="badge ${v.tier}">${h.tiers[v.tier] ?? v.tier}</span></td>
              <td class="num" data-value=${p.pAlive}>${formatShare(p.pAlive, lang)}</td>
              <td class="num" data-value=${p.expectedOrders90d}>${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(p.expectedOrders90d)}</td>
              <td class="num" data-value=${p.clv365d}>${money(p.clv365d, p.currency || undefined)}</td>
            </tr>`;
          })}
        </tbody>
      </table></div>
      <p class="note">${t.predictedNote}</p>`,
  );
}
