/**
 * The retention purge finds old events by rowid (no index on received_at): it deletes exactly the
 * expired rows when the clock only moves forward, never a recent row when the clock was set back,
 * and each batch is a range of the rowid B-tree, not a scan of the table.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase, migrate, type DB } from './db.js';
import { createEventPurge } from './retention.js';
import { DAY_MS } from '../retention.js';

/** one purge batch per call, as the store's purgeEvents runs it, with a running total */
function purger(db: DB, days: number, batch = 500) {
  const p = createEventPurge(db);
  const stats = { deleted: 0 };
  return { stats, purgeBatch: () => { const n = p.purge(NOW - days * DAY_MS, batch); stats.deleted += n; return n; } };
}

const NOW = Date.UTC(2026, 5, 1);

function dbWith(receivedAt: number[]): DB {
  const db = openDatabase(':memory:');
  migrate(db);
  const ins = db.prepare(`INSERT INTO events (stream_id, id, viewer_id, type, client_ts, received_at) VALUES ('s', ?, 'v', 'like', ?, ?)`);
  receivedAt.forEach((at, i) => ins.run(`e${i}`, at, at));
  return db;
}
const kept = (db: DB) => (db.prepare('SELECT received_at AS at FROM events ORDER BY rowid').all() as { at: number }[]).map((r) => r.at);

describe('retention by rowid', () => {
  it('deletes every expired event in batches and nothing newer', () => {
    const ages = Array.from({ length: 1000 }, (_, i) => NOW - (40 - i * 0.02) * DAY_MS); // 40 days ago .. 20 days ago
    const db = dbWith(ages);
    const purge = purger(db, 30, 64);
    let n = 0;
    while (purge.purgeBatch() > 0) n++;
    const cutoff = NOW - 30 * DAY_MS;
    expect(kept(db)).toEqual(ages.filter((at) => at >= cutoff));
    expect(purge.stats.deleted).toBe(ages.filter((at) => at < cutoff).length);
    expect(n).toBe(Math.ceil(purge.stats.deleted / 64));
  });

  it('never deletes a recent event early when the clock was set back', () => {
    const old = NOW - 60 * DAY_MS;
    const recent = NOW - DAY_MS;
    // rows appended in this order: the third came while the clock ran ahead, then it was set back
    const db = dbWith([old, old + 1, recent, old + 2, old + 3, recent + 1]);
    purger(db, 30).purgeBatch();
    const left = kept(db);
    expect(left).toContain(recent);
    expect(left).toContain(recent + 1);
    expect(left).not.toContain(old);
    expect(left).not.toContain(old + 1);
  });

  it('an empty table and a table with nothing expired are no-ops', () => {
    expect(purger(dbWith([]), 30).purgeBatch()).toBe(0);
    const db = dbWith([NOW - DAY_MS, NOW]);
    expect(purger(db, 30).purgeBatch()).toBe(0);
    expect(kept(db)).toHaveLength(2);
  });

  it('reads rowid ranges, never the whole table, and no insert maintains an index on received_at', () => {
    const db = dbWith([]);
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT rowid FROM events WHERE rowid < 10 AND received_at < 5 ORDER BY rowid LIMIT 5`).all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/SEARCH events USING INTEGER PRIMARY KEY \(rowid<\?\)/);
    const indexes = (db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`).all() as { name: string; sql: string }[]);
    expect(indexes.filter((i) => /\(received_at\)\s*$/.test(i.sql)).map((i) => i.name)).toEqual([]);
  });
});
