/**
 * The segments the channel's model found (issue 15: K-means over recency, frequency, spend and
 * engagement, GET /v1/streams/:id/segments) as a card of the host panel: one row per segment,
 * largest first, with its share of the buyers and of the GMV and its traits in words, made here
 * from the reason codes in the panel's own language. The report page renders the same data.
 */
import { html, nothing } from 'lit';
import { explainText, type Explain } from '../../server/tiering/explain.js';
import type { Lang } from '../locale.js';
import type { HostText } from './text.js';

export interface SegmentItem {
  id: number;
  buyers: number;
  /** shares of the buyers and of the GMV of the last 365 days, 0–1 */
  share: number;
  gmvShare: number;
  ordersPerMonth: number;
  spend: number;
  spendRatio: number;
  recencyDays: number;
  engagement: number;
  /** the traits in words, in the language the API was asked for */
  description: string;
  explain: Explain[];
}

/** GET /v1/streams/:id/segments */
export interface SegmentsData {
  fittedAt: number | null;
  buyers: number;
  k: number;
  silhouette: number | null;
  segments: SegmentItem[];
}

/** the traits in `lang`, from the codes (the API's own words when a code is unknown here) */
export function segmentTraits(s: SegmentItem, lang: Lang): string {
  return s.explain?.length ? s.explain.map((e) => explainText(e, lang)).join(' · ') : s.description;
}

export function renderSegments(data: SegmentsData | null, t: HostText, lang: Lang) {
  const share = (x: number) => `${new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }).format(x * 100)}%`;
  return html`<div class="card wide" part="card" data-section="segments">
    <h3>${t.segmentsHeading}</h3>
    ${data === null
      ? html`<p class="muted">–</p>`
      : data.k === 0
        ? html`<p class="muted">${t.noSegments}</p>`
        : html`<ol class="segments">
              ${data.segments.map(
                (s, i) => html`<li data-segment=${s.id} data-share=${s.share} data-gmv-share=${s.gmvShare}>
                  <b>${t.segmentName(i + 1)}</b>
                  <span class="shares">${t.segmentShares(share(s.share), share(s.gmvShare))}</span>
                  <small class="reasons">${segmentTraits(s, lang)}</small>
                </li>`,
              )}
            </ol>
            <p class="muted note">${t.segmentsNote(data.buyers)}</p>`}
    ${nothing}
  </div>`;
}
