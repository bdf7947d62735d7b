/**
 * The audience-by-tier trend chart. uPlot (≈ 22 KB gzipped) is not in any bundle a viewer loads,
 * nor in the host bundle itself: it is its own script, `livetier-uplot.js`, fetched the first time
 * a chart is drawn. Until it arrives (or if it cannot), the panel shows the numbers without a chart.
 */
import type { TrendPoint } from '../../server/realtime/events.js';
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

/** what the chart shows: the audience by tier, or by lifecycle stage */
export type ChartMode = 'tier' | 'lifecycle';

export const SERIES = {
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
} as const;

/** A point's value for a series key (lifecycle counts live in `point.lifecycle`). */
export function pointValue(p: TrendPoint, mode: ChartMode, key: string): number {
  return mode === 'tier' ? (p[key as 'high' | 'mid' | 'potential'] ?? 0) : (p.lifecycle?.[key] ?? 0);
}

/** uPlot's columns: seconds, then one array per series of the mode. */
export function toColumns(points: readonly TrendPoint[], mode: ChartMode = 'tier'): number[][] {
  const series = SERIES[mode];
  const cols: number[][] = [[], ...series.map(() => [])];
  for (const p of points) {
    cols[0]!.push(p.t / 1000);
    series.forEach((s, i) => cols[i + 1]!.push(pointValue(p, mode, s.key)));
  }
  return cols;
}

/** Merges new or revised points (same `t` replaces) into a series, oldest first, at most `max` long. */
export function mergePoints(series: readonly TrendPoint[], incoming: readonly TrendPoint[], max = 2000): TrendPoint[] {
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

/** One uPlot instance bound to a container; `draw` creates it on first use and updates it after. */
export class TrendChart {
  private plot: uPlotType | null = null;
  private resize: ResizeObserver | null = null;
  private pending: TrendPoint[] | null = null;
  failed = false;

  constructor(
    private readonly server: () => string | undefined,
    private readonly labels: () => Record<string, string>,
  ) {}

  private mode: ChartMode = 'tier';

  draw(container: HTMLElement | null | undefined, points: readonly TrendPoint[], mode: ChartMode = 'tier') {
    if (!container || points.length === 0) return;
    if (this.plot && (this.plot.root.parentElement !== container || mode !== this.mode)) this.destroy();
    this.mode = mode;
    if (this.plot) {
      this.plot.setData(toColumns(points, mode) as uPlotType.AlignedData);
      return;
    }
    const first = this.pending === null;
    this.pending = points.slice();
    if (!first) return;
    loadUPlot(this.server()).then(
      (UPlot) => {
        const data = this.pending!;
        this.pending = null;
        if (!container.isConnected) return;
        const width = Math.max(200, container.clientWidth);
        const labels = this.labels();
        this.plot = new UPlot(
          {
            width,
            height: 180,
            legend: { show: false },
            cursor: { drag: { x: false, y: false } },
            scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
            axes: [{ stroke: '#6b7280', grid: { stroke: 'rgba(128,128,128,.15)' } }, { stroke: '#6b7280', grid: { stroke: 'rgba(128,128,128,.15)' } }],
            // steps: a count holds until the next point (points come only when something changed)
            series: [{}, ...SERIES[this.mode].map((s) => ({ label: labels[s.key], stroke: s.color, width: 2, fill: s.color + '14', paths: UPlot.paths.stepped?.({ align: 1 }) }))],
          },
          toColumns(data, this.mode) as uPlotType.AlignedData,
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
