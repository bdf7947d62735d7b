/**
 * Retention: raw events older than `days` are deleted in the background, a small batch at a
 * time, each batch its own short statement between ingest commits (better-sqlite3 is
 * synchronous, so a batch never interleaves with a group commit; it only delays the next one by
 * the time one small DELETE takes). Events are appended in the order the server received them, so
 * old events are the ones with the lowest rowids: the purge finds the first rowid that is still
 * kept with a binary search over rowids (about 30 primary-key lookups) instead of an index on
 * `received_at`, which every insert would pay for. A row below that boundary is deleted only if
 * its own `received_at` is old too (a clock set back never purges a recent event early; such a
 * row waits until the boundary passes it). The aggregates the tiers need (viewers, viewer_streams,
 * purchases) and the offers are never touched: purging events changes no tier and no summary.
 *
 * `createEventPurge` is one batch: what the SQLite store's `purgeEvents` runs, and what
 * `RetentionPurger` here schedules over a bare database.
 */
import type { DB } from './db.js';

export const DAY_MS = 86_400_000;
/** rows deleted per statement: small enough that ingest never waits long */
export const RETENTION_BATCH = 500;
/** how often the purge looks for old events */
export const RETENTION_INTERVAL_MS = 60_000;

/** The purge statements over one database: the rowid boundary of a cutoff, and one batch below it. */
export function createEventPurge(db: DB) {
  // each batch is a range of the table's rowid (its B-tree key), from the oldest row up
  const del = db.prepare(`DELETE FROM events WHERE rowid IN
    (SELECT rowid FROM events WHERE rowid < @boundary AND received_at < @cutoff ORDER BY rowid LIMIT @batch)`);
  // two subqueries: MIN and MAX together in one SELECT would scan the table for both; each alone is one B-tree seek
  const bounds = db.prepare('SELECT (SELECT MIN(rowid) FROM events) AS lo, (SELECT MAX(rowid) FROM events) AS hi');
  const at = db.prepare('SELECT rowid AS id, received_at AS at FROM events WHERE rowid >= ? ORDER BY rowid LIMIT 1');

  /** The lowest rowid received at or after `cutoff` (one past the last row when every row is older). */
  function boundary(cutoff: number): number {
    const { lo, hi } = bounds.get() as { lo: number | null; hi: number | null };
    if (lo === null || hi === null) return 0;
    let a = lo, b = hi + 1; // with rows in time order: rows below a are older than cutoff, the row at or after b is not
    while (a < b) {
      const mid = a + Math.floor((b - a) / 2);
      const r = at.get(mid) as { id: number; at: number } | undefined; // the first row at or after mid
      if (r && r.at < cutoff) a = r.id + 1;
      else b = mid;
    }
    return a;
  }

  return {
    boundary,
    /** deletes at most `batch` events received before `cutoff`; returns how many went */
    purge(cutoff: number, batch: number): number {
      return del.run({ boundary: boundary(cutoff), cutoff, batch }).changes;
    },
  };
}

export interface RetentionOptions {
  days: number;
  clock: () => number;
  batch?: number;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Runs the purge over one database in the background, a synchronous batch per turn of the event
 * loop. (`../retention.ts` is the same schedule over any store's `purgeEvents`.)
 */
export class RetentionPurger {
  private readonly events: ReturnType<typeof createEventPurge>;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  /** rows deleted since start, and batches run */
  readonly stats = { deleted: 0, batches: 0 };

  constructor(
    db: DB,
    private readonly opts: RetentionOptions,
  ) {
    this.events = createEventPurge(db);
  }

  /** The lowest rowid received at or after `cutoff` (one past the last row when every row is older). */
  boundary(cutoff: number): number {
    return this.events.boundary(cutoff);
  }

  /** Deletes at most one batch of expired events now; returns how many rows went. */
  purgeBatch(now = this.opts.clock()): number {
    const n = this.events.purge(now - this.opts.days * DAY_MS, this.opts.batch ?? RETENTION_BATCH);
    this.stats.deleted += n;
    this.stats.batches++;
    return n;
  }

  /** Purges everything expired, one batch per turn of the event loop; resolves when done (or stopped). */
  purge(): Promise<number> {
    if (this.running || this.opts.days <= 0) return Promise.resolve(0);
    this.running = true;
    const batch = this.opts.batch ?? RETENTION_BATCH;
    let total = 0;
    return new Promise<number>((resolve) => {
      const step = () => {
        let n = 0;
        try {
          if (!this.stopped) n = this.purgeBatch();
        } catch (err) {
          this.opts.onError?.(err);
        }
        total += n;
        if (n === batch && !this.stopped) {
          setImmediate(step); // yield to ingest between batches
        } else {
          this.running = false;
          resolve(total);
        }
      };
      setImmediate(step);
    });
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
