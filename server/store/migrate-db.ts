/**
 * `livetier migrate-db --from ./livetier.db --to postgres://…`: moves a shop that outgrew SQLite
 * to PostgreSQL with its whole history. Every table is copied verbatim (channels with their
 * token secrets, streams with their key digests, viewers, events, purchases, offers, campaigns,
 * polls, retired keys, rules, aliases), in ONE PostgreSQL transaction: the target ends up with
 * everything or with nothing. The target must be empty (its schema is created first if needed);
 * row counts are compared table by table before the commit. The source is opened read-only and
 * should not be served while it is copied (stop the server first: what it wrote meanwhile would
 * not be copied).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describeDb, isPostgresUrl } from './index.js';
import { createPostgresStore } from './postgres/index.js';
import { DAY_MS, dayStart, partitionName } from './postgres/partitions.js';

/** rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table */
const CHUNK = 1000;
/** SQLite's arrival order (rowid) is kept in PostgreSQL's `seq` column for these tables */
const ROWID_AS_SEQ = new Set(['events', 'polls']);

export interface MigrateResult {
  tables: { name: string; rows: number }[];
  rows: number;
}

type Progress = (table: string, done: number, total: number) => void;

/** Copies every table of the SQLite file `from` into the empty PostgreSQL database `to`. */
export async function migrateDb(from: string, to: string, progress: Progress = () => {}): Promise<MigrateResult> {
  if (!isPostgresUrl(to)) throw new Error('--to must be a postgres:// or postgresql:// URL');
  if (isPostgresUrl(from)) throw new Error('--from must be the path of a SQLite file');
  if (!existsSync(from)) throw new Error(`no SQLite database at ${from}`);
  const src = new Database(from, { readonly: true, fileMustExist: true });
  try {
    // the target's schema: the same migrations a server applies at start
    await (await createPostgresStore(to, { poolSize: 1 })).close();
    const client = new pg.Client({ connectionString: to });
    await client.connect();
    try {
      return await copy(src, client, progress);
    } finally {
      await client.end();
    }
  } finally {
    src.close();
  }
}

async function copy(src: Database.Database, dst: pg.Client, progress: Progress): Promise<MigrateResult> {
  const tables = (src.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  const targetColumns = async (table: string) =>
    (
      await dst.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
        [table],
      )
    ).rows.map((r) => r.column_name);
  // refuse a target that holds anything, before writing a byte
  for (const t of tables) {
    if (!(await targetColumns(t)).length) throw new Error(`the target has no table ${t}: is it a LiveTier database of another version?`);
    const { rows } = await dst.query(`SELECT 1 FROM ${pg.escapeIdentifier(t)} LIMIT 1`);
    if (rows.length) throw new Error(`the target database is not empty (table ${t} has rows): migrate-db only copies into an empty database`);
  }
  const result: MigrateResult = { tables: [], rows: 0 };
  await dst.query('BEGIN');
  try {
    for (const t of tables) {
      const srcCols = (src.prepare(`PRAGMA table_info(${JSON.stringify(t)})`).all() as { name: string }[]).map((c) => c.name);
      const dstCols = new Set(await targetColumns(t));
      const missing = srcCols.filter((c) => !dstCols.has(c));
      if (missing.length) throw new Error(`the target's ${t} has no column ${missing.join(', ')}`);
      const withSeq = ROWID_AS_SEQ.has(t) && dstCols.has('seq');
      const cols = withSeq ? [...srcCols, 'seq'] : srcCols;
      const total = (src.prepare(`SELECT COUNT(*) AS n FROM ${JSON.stringify(t)}`).get() as { n: number }).n;
      if (t === 'events') await createDayPartitions(src, dst);
      let done = 0;
      let chunk: unknown[][] = [];
      const flush = async () => {
        if (!chunk.length) return;
        const params: unknown[] = [];
        const values = chunk.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
        await dst.query(`INSERT INTO ${pg.escapeIdentifier(t)} (${cols.map((c) => pg.escapeIdentifier(c)).join(', ')}) VALUES ${values.join(', ')}`, params);
        done += chunk.length;
        chunk = [];
        progress(t, done, total);
      };
      // the source is streamed (this read-only connection serves nothing else meanwhile), never the whole table in memory
      const rows = src
        .prepare(`SELECT ${srcCols.map((c) => JSON.stringify(c)).join(', ')}${withSeq ? ', rowid AS __seq' : ''} FROM ${JSON.stringify(t)}${withSeq ? ' ORDER BY rowid' : ''}`)
        .raw()
        .iterate() as IterableIterator<unknown[]>;
      for (const r of rows) {
        chunk.push(r);
        if (chunk.length >= CHUNK) await flush();
      }
      await flush();
      if (withSeq) {
        // new rows continue after the copied ones
        await dst.query(`SELECT setval(pg_get_serial_sequence($1, 'seq'), GREATEST((SELECT MAX(seq) FROM ${pg.escapeIdentifier(t)}), 1))`, [t]);
      }
      const copied = (await dst.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${pg.escapeIdentifier(t)}`)).rows[0]!.n;
      if (Number(copied) !== total) throw new Error(`row counts differ for ${t}: ${total} in SQLite, ${copied} in PostgreSQL`);
      result.tables.push({ name: t, rows: total });
      result.rows += total;
      if (total === 0) progress(t, 0, 0);
    }
    await dst.query('COMMIT');
  } catch (err) {
    await dst.query('ROLLBACK').catch(() => {});
    throw err;
  }
  return result;
}

/** one partition per day the copied events span (rows outside them would land in the DEFAULT partition) */
async function createDayPartitions(src: Database.Database, dst: pg.Client) {
  const span = src.prepare('SELECT MIN(received_at) AS lo, MAX(received_at) AS hi FROM events').get() as { lo: number | null; hi: number | null };
  if (span.lo === null || span.hi === null) return;
  for (let day = dayStart(span.lo); day <= span.hi; day += DAY_MS) {
    const name = partitionName(day);
    await dst.query(`CREATE TABLE IF NOT EXISTS ${pg.escapeIdentifier(name)} PARTITION OF events FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    await dst.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${pg.escapeIdentifier(`${name}_key`)} ON ${pg.escapeIdentifier(name)} (stream_id, viewer_id, id)`);
  }
}

/** The CLI command; exit code 2 for bad arguments, 1 when the copy failed (the target is left as it was). */
export async function migrateDbCommand(argv: string[], usage: string): Promise<void> {
  let values: { from?: string; to?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (!values.from || !values.to) {
    console.error(`migrate-db needs --from FILE and --to postgres://…\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (!isPostgresUrl(values.to)) {
    console.error(`--to must be a postgres:// or postgresql:// URL\n${usage}`);
    process.exitCode = 2;
    return;
  }
  const tty = process.stderr.isTTY;
  let last = '';
  const progress: Progress = (table, done, total) => {
    const line = `copying ${table}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} rows`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (done === total && line !== last) process.stderr.write(`${line}\n`);
    last = line;
  };
  try {
    const r = await migrateDb(values.from, values.to, progress);
    if (tty) process.stderr.write('\n');
    process.stdout.write(
      `LiveTier database ${values.from} copied to ${describeDb(values.to)}: ${r.rows.toLocaleString('en')} rows in ${r.tables.length} tables, row counts verified\n`,
    );
  } catch (err) {
    if (tty) process.stderr.write('\n');
    console.error(`migrate-db failed, nothing was written to the target: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
