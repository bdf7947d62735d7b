/**
 * Retention: raw events older than `days` are purged in the background, one small batch at a
 * time between ingest commits, by the store's `purgeEvents` (SQLite deletes a range of rowids;
 * PostgreSQL drops whole day partitions). The aggregates the tiers need (viewers,
 * viewer_streams, purchases) and the offers are never touched: purging events changes no tier
 * and no summary.
 */
export const DAY_MS = 86_400_000;
/** rows deleted per batch: small enough that ingest never waits long */
export const RETENTION_BATCH = 500;
/** how often the purge looks for old events */
export const RETENTION_INTERVAL_MS = 60_000;

export interface RetentionOptions {
  days: number;
  clock: () => number;
  batch?: number;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export class RetentionPurger {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;
  private stopped = false;
  /** rows deleted since start, and batches run */
  readonly stats = { deleted: 0, batches: 0 };

  constructor(
    /** deletes at most `batch` events received before `cutoff`; resolves to how many went */
    private readonly purgeEvents: (cutoff: number, batch: number) => Promise<number>,
    private readonly opts: RetentionOptions,
  ) {}

  /** Deletes at most one batch of expired events now; returns how many rows went. */
  async purgeBatch(now = this.opts.clock()): Promise<number> {
    const n = await this.purgeEvents(now - this.opts.days * DAY_MS, this.opts.batch ?? RETENTION_BATCH);
    this.stats.deleted += n;
    this.stats.batches++;
    return n;
  }

  /** Purges everything expired, one batch per turn of the event loop; resolves when done (or stopped). */
  purge(): Promise<number> {
    if (this.opts.days <= 0) return Promise.resolve(0);
    if (this.running) return this.running;
    const batch = this.opts.batch ?? RETENTION_BATCH;
    this.running = (async () => {
      let total = 0;
      try {
        while (!this.stopped) {
          await new Promise((r) => setImmediate(r)); // yield to ingest between batches
          const n = await this.purgeBatch();
          total += n;
          if (n < batch) break;
        }
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.running = null;
      }
      return total;
    })();
    return this.running;
  }

  start(): this {
    if (this.opts.days <= 0 || this.timer) return this;
    void this.purge();
    this.timer = setInterval(() => void this.purge(), this.opts.intervalMs ?? RETENTION_INTERVAL_MS);
    this.timer.unref();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
