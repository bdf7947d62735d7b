/**
 * A small bar chart drawn as SVG with Lit's `svg` templates: groups of bars (one group per
 * stream, oldest on the left), each series scaled to its own highest value and labelled with its
 * number, so no axis has to be read. Pure; no script runs in it and nothing is inline-styled (the
 * page's Content-Security-Policy allows only its own stylesheet, which colours the bars by class).
 *
 * The SVG is one image to assistive technology (`role="img"`, named by its `<title>` and
 * described by its `<desc>`); the page's tables carry every number it shows.
 */
import { html, svg, nothing, type TemplateResult } from 'lit';

export interface Series {
  /** a class name for the bars and the legend swatch (`bar-<key>` in the stylesheet) */
  key: string;
  label: string;
  /** one value per group; null: nothing known (no bar, a dash) */
  values: (number | null)[];
  format: (n: number) => string;
}

export interface BarChart {
  id: string;
  title: string;
  desc: string;
  /** one label per group, under it */
  labels: string[];
  series: Series[];
  /** an optional second line under each group's label */
  notes?: string[];
}

const W = 640;
const H = 260;
const TOP = 34; // the legend, and room for the tallest bar's number
const BOTTOM = 44; // the group labels and notes
const SIDE = 12;

export function barChart(c: BarChart): TemplateResult {
  const groups = c.labels.length;
  const plot = H - TOP - BOTTOM;
  const step = (W - 2 * SIDE) / Math.max(1, groups);
  const barW = Math.max(4, Math.min(30, (step * 0.7) / c.series.length));
  const maxOf = (s: Series) => Math.max(0, ...s.values.map((v) => v ?? 0));
  const bars = c.series.map((s, si) => {
    const max = maxOf(s);
    return s.values.map((v, gi) => {
      const x = SIDE + gi * step + (step - barW * c.series.length) / 2 + si * barW;
      const h = v === null || max === 0 ? 0 : Math.max(v > 0 ? 1 : 0, (v / max) * plot);
      const y = TOP + plot - h;
      return svg`<rect class=${`bar bar-${s.key}`} x=${x.toFixed(1)} y=${y.toFixed(1)} width=${(barW - 2).toFixed(1)} height=${h.toFixed(1)}></rect>
        <text class="value" x=${(x + (barW - 2) / 2).toFixed(1)} y=${(y - 4).toFixed(1)} text-anchor="middle">${v === null ? '–' : s.format(v)}</text>`;
    });
  });
  const legend = c.series.map(
    (s, i) => svg`<rect class=${`bar-${s.key}`} x=${SIDE + i * 150} y="6" width="12" height="12"></rect>
      <text class="legend" x=${SIDE + i * 150 + 18} y="16">${s.label}</text>`,
  );
  const labels = c.labels.map((label, gi) => {
    const x = (SIDE + gi * step + step / 2).toFixed(1);
    return svg`<text class="label" x=${x} y=${H - BOTTOM + 16} text-anchor="middle">${label}</text>
      ${c.notes?.[gi] ? svg`<text class="note" x=${x} y=${H - BOTTOM + 32} text-anchor="middle">${c.notes[gi]}</text>` : nothing}`;
  });
  return html`<figure class="chart" data-chart=${c.id}>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby=${`${c.id}-title ${c.id}-desc`} focusable="false">
      <title id=${`${c.id}-title`}>${c.title}</title>
      <desc id=${`${c.id}-desc`}>${c.desc}</desc>
      <line class="axis" x1=${SIDE} x2=${W - SIDE} y1=${TOP + plot} y2=${TOP + plot}></line>
      ${legend} ${bars} ${labels}
    </svg>
    <figcaption>${c.title}</figcaption>
  </figure>`;
}
