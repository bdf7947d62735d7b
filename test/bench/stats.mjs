// The bench's small shared pieces: number formats for the report, percentiles, splitting a load
// across generators, and the clock the phases time with (run.mjs and cluster.mjs).

export const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
export const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
export const f2 = (x) => (Number.isFinite(x) ? (x !== 0 && Math.abs(x) < 0.01 ? x.toPrecision(2) : x.toFixed(2)) : 'n/a');
export const kb = (x) => (Number.isFinite(x) ? `${(x / 1024).toFixed(1)} KB` : 'n/a');
/** ratios beside a goal shown rounded down, so 0.797 never reads 0.80 */
export const floor2 = (x) => Math.floor(x * 100) / 100;
export const split = (total, parts) => Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.timeOrigin + performance.now();
export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
export const median = (xs) => pct(xs, 50);
