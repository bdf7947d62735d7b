/**
 * Reads a test server's database directly, for tests that check what was stored:
 *
 *   const q = await sql(srv);
 *   const { n } = (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE stream_id = ?', id))!;
 *   await q.close();
 *
 * The same SQL runs on both stores: SQLite through a read-only better-sqlite3 connection to the
 * file, PostgreSQL through a `pg` client on the database URL, with `?` placeholders numbered
 * `$1…` and BIGINT / NUMERIC values (COUNT, SUM, the schema's BIGINT columns) parsed to numbers,
 * as better-sqlite3 returns them. Write portable SQL; where a check cannot be, branch on `kind`.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { isPostgresUrl } from '../../server/store/index.js';

export type Row = Record<string, unknown>;

export interface SqlReader {
  readonly kind: 'sqlite' | 'postgres';
  /** the first row, or undefined */
  get<T = Row>(text: string, ...params: unknown[]): Promise<T | undefined>;
  all<T = Row>(text: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const INT8 = 20;
const NUMERIC = 1700;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** `?` → `$1`, `$2`, … outside quoted literals and identifiers */
export function numberPlaceholders(text: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null; // a doubled quote closes and reopens: the same state either way
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** A reader on `target`: a test server (its `db`), a SQLite path or a postgres:// URL. */
export async function sql(target: string | { db: string }): Promise<SqlReader> {
  const db = typeof target === 'string' ? target : target.db;
  if (!isPostgresUrl(db)) {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    return {
      kind: 'sqlite',
      get: async <T>(text: string, ...params: unknown[]) => conn.prepare(text).get(...params) as T | undefined,
      all: async <T>(text: string, ...params: unknown[]) => conn.prepare(text).all(...params) as T[],
      close: async () => void conn.close(),
    };
  }
  const client = new pg.Client({ connectionString: db, types });
  // dropping the database ends this connection; the next query rejects, which is what a test should see
  client.on('error', () => {});
  await client.connect();
  let closed: Promise<void> | undefined;
  const all = async <T>(text: string, ...params: unknown[]) => (await client.query(numberPlaceholders(text), params)).rows as T[];
  return {
    kind: 'postgres',
    get: async <T>(text: string, ...params: unknown[]) => (await all<T>(text, ...params))[0],
    all,
    close: () => (closed ??= client.end().catch(() => {})),
  };
}

/** Runs `read` on a reader of its own, closed afterwards whatever happens. */
export async function withSql<T>(target: string | { db: string }, read: (q: SqlReader) => Promise<T>): Promise<T> {
  const q = await sql(target);
  try {
    return await read(q);
  } finally {
    await q.close();
  }
}
