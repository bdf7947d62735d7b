/**
 * The host's chart: the audience by tier or by lifecycle stage over the stream (the trend), or
 * the stream minute by minute (watching now, orders, GMV on an axis of its own). uPlot (≈ 22 KB gzipped) is not in any bundle a viewer loads,
 * nor in the host bundle itself: it is its own script, `livetier-uplot.js`, fetched the first time
 * a chart is drawn. Until it arrives (or if it cannot), the panel shows the numbers without a chart.
 */
import type { MinutePoint, TrendPoint } from '../../server/realtime/events.js';
import type uPlotType from 'uplot';

type UPlotCtor = typeof uPlotType;

declare global {
  // set by livetier-uplot.js
  var LiveTierUPlot: UPlotCtor | undefined;
}

/** where this bundle came from, so the chart script comes from the same place */
const scriptBase: string | null = (() => {
  const src = (globalThis.document?.currentScript as HTMLScriptElement | null)?.src;
  return src ? new URL('.', src).href : null;
})();
const scriptNonce: string | undefined = (globalThis.document?.currentScript as HTMLScriptElement | null)?.nonce || undefined;

let loading: Promise<UPlotCtor> | null = null;

/** Loads uPlot once per page; `server` is the fallback origin when this bundle was not loaded by a script tag. */
export function loadUPlot(server: string | undefined): Promise<UPlotCtor> {
  if (globalThis.LiveTierUPlot) return Promise.resolve(globalThis.LiveTierUPlot);
  if (loading) return loading;
  const base = scriptBase ?? (server ? server.replace(/\/+$/, '') + '/' : null);
  if (!base) return Promise.reject(new Error('no server to load the chart from'));
  loading = new Promise<UPlotCtor>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${base}livetier-uplot.js`;
    s.async = true;
    if (scriptNonce) s.nonce = scriptNonce;
    s.onload = () => (globalThis.LiveTierUPlot ? resolve(globalThis.LiveTierUPlot) : reject(new Error('livetier-uplot.js did not define the chart')));
    s.onerror = () => reject(new Error('livetier-uplot.js could not be loaded'));
    document.head.append(s);
  }).catch((err) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** what the chart shows: the audience by tier or by lifecycle stage, or sales per minute */
export type ChartMode = 'tier' | 'lifecycle' | 'sales';

/**
 * One line of the chart. `scale` gives it an axis of its own on the right (orders per minute are
 * tens where viewers are thousands; GMV is money); the others share the left one.
 */
export interface ChartSeries {
  key: string;
  color: string;
  scale?: 'orders' | 'gmv';
}

export const SERIES: Record<ChartMode, readonly ChartSeries[]> = {
  tier: [
    { key: 'high', color: '#e4393c' },
    { key: 'mid', color: '#f39c12' },
    { key: 'potential', color: '#3b82f6' },
  ],
  lifecycle: [
    { key: 'new', color: '#22c55e' },
    { key: 'active', color: '#3b82f6' },
    { key: 'at_risk', color: '#f39c12' },
    { key: 'lapsed', color: '#9ca3af' },
  ],
  sales: [
    { key: 'watching', color: '#3b82f6' },
    { key: 'orders', color: '#f39c12', scale: 'orders' },
    { key: 'gmv', color: '#e4393c', scale: 'gmv' },
  ],
};

/** A trend point's value for a series key (lifecycle counts live in `point.lifecycle`). */
export function pointValue(p: TrendPoint, mode: 'tier' | 'lifecycle', key: string): number {
  return mode === 'tier' ? (p[key as 'high' | 'mid' | 'potential'] ?? 0) : (p.lifecycle?.[key] ?? 0);
}

/** uPlot's columns of the trend: seconds, then one array per series of the mode. */
export function toColumns(points: readonly TrendPoint[], mode: 'tier' | 'lifecycle' = 'tier'): number[][] {
  const series = SERIES[mode];
  const cols: number[][] = [[], ...series.map(() => [])];
  for (const p of points) {
    cols[0]!.push(p.t / 1000);
    series.forEach((s, i) => cols[i + 1]!.push(pointValue(p, mode, s.key)));
  }
  return cols;
}

/** uPlot's columns of the minutes: seconds (each minute's start), watching, orders, GMV. */
export function minuteColumns(points: readonly MinutePoint[]): number[][] {
  const cols: number[][] = [[], [], [], []];
  for (const p of points) {
    cols[0]!.push(p.t / 1000);
    cols[1]!.push(p.watching);
    cols[2]!.push(p.orders);
    cols[3]!.push(p.gmv);
  }
  return cols;
}

/** Merges new or revised points (same `t` replaces) into a series, oldest first, at most `max` long. */
export function mergePoints<P extends { t: number }>(series: readonly P[], incoming: readonly P[], max = 2000): P[] {
  const out = series.slice();
  for (const p of incoming) {
    const last = out[out.length - 1];
    if (last && last.t === p.t) out[out.length - 1] = p;
    else if (!last || p.t > last.t) out.push(p);
    else {
      const i = out.findIndex((q) => q.t >= p.t);
      if (out[i]!.t === p.t) out[i] = p;
      else out.splice(i, 0, p);
    }
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

/**
 * One uPlot instance bound to a container; `draw` creates it on first use and updates it after.
 * `labels` names the series; `money` writes the GMV axis's ticks (minor units in, text out).
 */
export class TrendChart {
  private plot: uPlotType | null = null;
  private resize: ResizeObserver | null = null;
  private pending: number[][] | null = null;
  failed = false;

  constructor(
    private readonly server: () => string | undefined,
    private readonly labels: () => Record<string, string>,
    private readonly money: (minor: number) => string = String,
  ) {}

  private mode: ChartMode = 'tier';

  /** draws `columns` (toColumns of the trend, or minuteColumns) as the mode's series */
  draw(container: HTMLElement | null | undefined, columns: number[][], mode: ChartMode = 'tier') {
    if (!container) return;
    // another mode has other series and axes (and another container is another plot): the old one goes
    if (this.plot && (this.plot.root.parentElement !== container || mode !== this.mode)) this.destroy();
    this.mode = mode;
    const empty = !columns[0]?.length;
    if (this.plot) {
      if (!empty) this.plot.setData(columns as uPlotType.AlignedData);
      return;
    }
    // nothing to draw: while uPlot loads, it draws nothing either (not another mode's data)
    if (empty) {
      if (this.pending) this.pending = [];
      return;
    }
    const first = this.pending === null;
    this.pending = columns;
    if (!first) return;
    loadUPlot(this.server()).then(
      (UPlot) => {
        const data = this.pending!;
        this.pending = null;
        if (!data[0]?.length || !container.isConnected) return;
        const width = Math.max(200, container.clientWidth);
        const labels = this.labels();
        const grid = { stroke: 'rgba(128,128,128,.15)' };
        const series = SERIES[this.mode];
        const own = series.filter((s) => s.scale);
        const countRange = (_u: uPlotType, _min: number, max: number): uPlotType.Range.MinMax => [0, Math.max(1, max)];
        this.plot = new UPlot(
          {
            width,
            height: 180,
            legend: { show: false },
            cursor: { drag: { x: false, y: false } },
            scales: {
              // one point (or none yet): a two-minute window around it, not uPlot's default span of years
              x: { time: true, range: (_u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) },
              y: { range: countRange },
              orders: { range: countRange },
              // GMV per minute goes below zero in a minute that refunded more than it sold
              gmv: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] },
            },
            axes: [
              { stroke: '#6b7280', grid },
              { stroke: '#6b7280', grid },
              // an axis per own scale, on the right, its ticks in its line's colour (orders: whole numbers; GMV: money)
              ...own.map((s) => ({
                scale: s.scale, side: 1, stroke: s.color, grid: { show: false }, size: s.scale === 'gmv' ? 70 : 40,
                ...(s.scale === 'gmv'
                  ? { values: (_u: uPlotType, ticks: number[]) => ticks.map(this.money) }
                  : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000], values: (_u: uPlotType, ticks: number[]) => ticks.map(String) }),
              })),
            ],
            // steps: a count holds until the next point (trend points come only when something
            // changed; a minute's numbers hold for the minute)
            series: [
              {},
              ...series.map((s) => ({
                label: labels[s.key], stroke: s.color, width: 2, fill: s.scale ? undefined : s.color + '14', scale: s.scale ?? 'y', paths: UPlot.paths.stepped?.({ align: 1 }),
              })),
            ],
          },
          data as uPlotType.AlignedData,
          container,
        );
        this.resize = new ResizeObserver(() => this.plot?.setSize({ width: Math.max(200, container.clientWidth), height: 180 }));
        this.resize.observe(container);
      },
      () => {
        this.pending = null;
        this.failed = true;
      },
    );
  }

  destroy() {
    this.resize?.disconnect();
    this.resize = null;
    this.plot?.destroy();
    this.plot = null;
  }
}
