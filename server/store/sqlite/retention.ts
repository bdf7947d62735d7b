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
 * `createEventPurge` is one batch: what the SQLite store's `purgeEvents` runs (the scheduling is
 * store-agnostic: ../retention.ts).
 */
import type { DB } from './db.js';

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
