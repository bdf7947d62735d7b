/**
 * Flood limits for the socket.io side (issue 8): a token bucket per connection for tracked
 * events, and a fixed-window counter per IP for new connections. Pure bookkeeping with the clock
 * passed in; the handlers decide what to answer.
 */

/** Reason given for each event refused by a rate limit; it starts with `rate_limited` so clients can retry those later. */
export const RATE_LIMITED = 'rate_limited';

/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. `take(n)` grants as many
 * of the n as there are tokens (never more), so a batch is split into accepted and refused.
 * A rate of 0 turns the limit off.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = Math.max(burst, ratePerSecond);
    this.last = now;
  }

  take(n: number, now: number): number {
    if (this.ratePerSecond <= 0) return n;
    const cap = Math.max(this.burst, this.ratePerSecond);
    this.tokens = Math.min(cap, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    const granted = Math.max(0, Math.min(n, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }
}

/**
 * Counts hits per key (an IP) in fixed windows; `hit` is false once a key went over `max` in the
 * current window. Old windows are forgotten, so the map never outgrows the keys of one window.
 * A max of 0 turns the limit off.
 */
export class WindowCounter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  hit(key: string, now: number): boolean {
    if (this.max <= 0) return true;
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.counts.clear();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.max;
  }
}
