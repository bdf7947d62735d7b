/**
 * How long to wait before retry number `attempt` (0-based): exponential from `base`, capped,
 * with "equal jitter" (between half and all of the step) so a crowd of viewers who lost the
 * server together does not come back together. Pure: randomness is an argument.
 */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

export function backoff(attempt: number, random: () => number = Math.random, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2 ** 60 is still finite; Math.min keeps it at the cap
  const step = Math.min(cap, base * 2 ** Math.min(n, 60));
  return Math.round(step / 2 + random() * (step / 2));
}
