/**
 * The day partitions of `events`, and retention by partition.
 *
 * Events are range-partitioned on received_at (ms since epoch) by UTC day, one table per day
 * named `events_YYYYMMDD`, so retention drops a whole day with one DROP TABLE instead of deleting
 * millions of rows (and vacuuming after them). Partitions are made on demand: today's and
 * tomorrow's when the store starts, a day an ingest batch needs before the batch's transaction,
 * and the following day in the background as soon as a batch lands in a day, so midnight never
 * waits for DDL. Creating a partition briefly locks `events` (PostgreSQL takes an ACCESS
 * EXCLUSIVE lock on the parent), which is why it happens ahead of time and outside ingest's
 * transaction. A row whose day has no partition (creation failed, or `migrate-db` copied an old
 * day) lands in the DEFAULT partition, which retention empties a batch at a time.
 *
 * Each partition carries its own UNIQUE (stream_id, viewer_id, id) index: the dedup key (see
 * ingest.ts for why that is per day, and what covers the days before).
 */
import type { Db, Sql } from './pool.js';
import { ident, isUnavailable } from './pool.js';

export const DAY_MS = 86_400_000;
/** retention drops a partition only if it can lock `events` within this; otherwise it tries again next round */
const DROP_LOCK_TIMEOUT = '2s';
/** one server creates partitions at a time (besides the IF NOT EXISTS) */
const PARTITION_LOCK = 7_305_084_012_902;

export const dayStart = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** `events_20261202` for the UTC day that starts at `day` */
export function partitionName(day: number): string {
  const d = new Date(day);
  const p = (n: number) => String(n).padStart(2, '0');
  return `events_${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
}

const sqlState = (err: unknown) => (err as { code?: string } | null)?.code;

export class Partitions {
  /** days known to have a partition (or known to be served by the DEFAULT one) */
  private readonly known = new Set<number>();
  private readonly pending = new Map<number, Promise<void>>();

  constructor(private readonly db: Db) {}

  /**
   * Makes sure the days of these timestamps have their partition before rows are inserted for
   * them (awaited), and starts creating each following day's ahead of time (not awaited).
   */
  async cover(times: Iterable<number>): Promise<void> {
    const days = new Set<number>();
    for (const t of times) days.add(dayStart(t));
    const missing = [...days].filter((d) => !this.known.has(d));
    if (missing.length) await Promise.all(missing.map((d) => this.ensure(d)));
    for (const d of days) {
      if (!this.known.has(d + DAY_MS)) this.ensure(d + DAY_MS).catch(() => {}); // the next batch tries again
    }
  }

  /** Creates the partition of the day starting at `day` unless it exists; concurrent calls share one attempt. */
  ensure(day: number): Promise<void> {
    if (this.known.has(day)) return Promise.resolve();
    let p = this.pending.get(day);
    if (!p) {
      p = this.create(day).then(
        () => {
          this.known.add(day);
          this.pending.delete(day);
        },
        (err) => {
          this.pending.delete(day);
          // Only a lost connection fails the caller. Any other failure leaves the day to the
          // DEFAULT partition, which takes the rows just as well (and retention empties it).
          if (isUnavailable(err)) throw this.db.wrap(err);
          this.known.add(day);
        },
      );
      this.pending.set(day, p);
    }
    return p;
  }

  private async create(day: number): Promise<void> {
    const name = partitionName(day);
    for (let attempt = 1; ; attempt++) {
      try {
        // the unique index is made last, in the same transaction: when it exists, the partition is complete
        const { rows } = await this.db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [`${name}_key`]);
        if (rows[0]!.ok) return;
        await this.db.tx(async (c) => {
          await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
          await c.query(`CREATE TABLE IF NOT EXISTS ${ident(name)} PARTITION OF events FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
          await c.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${ident(`${name}_key`)} ON ${ident(name)} (stream_id, viewer_id, id)`);
        });
        return;
      } catch (err) {
        // a writer without the lock (another tool) created it at the same moment: look again
        if (attempt < 3 && (sqlState(err) === '42P07' || sqlState(err) === '23505')) continue;
        throw err;
      }
    }
  }

  /**
   * Retention: drops every day partition that ends at or before `cutoff` (each counted first,
   * in its own short transaction), then deletes at most `batch` rows older than `cutoff` from
   * the DEFAULT partition. Returns the rows that went. A day partition still holding a row
   * received at or after `cutoff` is kept whole: retention is exact to the day.
   */
  async purge(cutoff: number, batch: number): Promise<number> {
    let total = 0;
    const { rows } = await this.db.query<{ name: string; bound: string }>(`
      SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass`);
    for (const { name, bound } of rows) {
      const range = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(bound); // the DEFAULT partition has none
      if (!range || Number(range[2]) > cutoff) continue;
      try {
        total += await this.db.tx(async (c: Sql) => {
          // DROP waits for ACCESS EXCLUSIVE on `events`, and every insert queues behind a waiting
          // DROP: give up quickly when a long query holds the table, rather than stall ingest
          await c.query(`SET LOCAL lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
          const n = (await c.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${ident(name)}`)).rows[0]!.n;
          await c.query(`DROP TABLE ${ident(name)}`);
          return n;
        });
        this.known.delete(Number(range[1]));
      } catch (err) {
        // lock_not_available: next round; undefined_table: another server dropped it first
        if (sqlState(err) === '55P03' || sqlState(err) === '42P01') continue;
        throw err;
      }
    }
    const del = await this.db.query(
      `DELETE FROM events_default WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM events_default WHERE received_at < $1 ORDER BY received_at LIMIT $2))`,
      [cutoff, batch],
    );
    return total + (del.rowCount ?? 0);
  }
}
