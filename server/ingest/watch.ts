/**
 * Watch time on the server's clock. A heartbeat claims engaged milliseconds; the server credits
 * at most the time it measured since the viewer's previous credited heartbeat in this stream (any
 * tab), and at most `HEARTBEAT_CAP_MS`. Pure: the caller keeps `lastAt` and passes `now`.
 */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** a heartbeat is credited at most 1.5 intervals, so one lost heartbeat is forgiven, a paused hour is not */
export const HEARTBEAT_CAP_MS = 15_000;

export function creditWatch(claimedMs: number, lastAt: number, now: number, cap = HEARTBEAT_CAP_MS): number {
  const elapsed = Math.max(0, now - lastAt);
  return Math.max(0, Math.min(Math.floor(claimedMs), elapsed, cap));
}
