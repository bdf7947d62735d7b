/**
 * The connection pool behind the PostgreSQL store, and the two ways the store talks through it:
 * `query` (one statement, autocommit) and `tx` (BEGIN … COMMIT on one pooled client, ROLLBACK on
 * error). Both turn connection-level failures into `StoreUnavailableError`, so routes answer 503
 * and a restarted database is simply retried: the pool drops broken clients and opens new ones.
 *
 * Commits keep the server's default `synchronous_commit = on`: a transaction is acknowledged only
 * once its WAL is on disk, so an acknowledged event survives a database crash.
 *
 * BIGINT (int8: ms timestamps, money, COUNT) and NUMERIC (SUM of BIGINT) come back as JS numbers
 * through a pool-local type parser, leaving the process-wide `pg.types` alone. Every value the
 * store keeps stays below 2^53.
 */
import pg from 'pg';
import { StoreUnavailableError } from '../types.js';

export const DEFAULT_POOL_SIZE = 10;
/** how long a query waits for a pooled connection (and a new connection for its handshake) */
export const CONNECT_TIMEOUT_MS = 5_000;
/** a transaction that lost a deadlock (or a serialization check) is run again this many times in all */
const TX_ATTEMPTS = 3;

const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (v: string) => Number(v);

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? toNumber : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** socket errors of a connection that is gone or never came */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED',
]);
/** admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections (class 08 is checked by prefix) */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** what pg says when a connection ends under a query, or the pool waited too long for one */
const UNAVAILABLE_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /not queryable/i];
/** deadlock_detected, serialization_failure: nothing was written, the same transaction can run again */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/** True for failures of the connection itself (the database is down, restarting or full), not of a statement. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code)) return true;
  }
  // a host name with several addresses fails with an AggregateError of each attempt
  if (Array.isArray(e.errors) && e.errors.some(isUnavailable)) return true;
  return typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string));
}

const sqlState = (err: unknown): string | undefined =>
  err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;

/** `host:port/database` of a connection URL: what error messages name (never the user's password) */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
    return `${host}:${u.port || '5432'}/${db}`;
  } catch {
    return 'the configured address';
  }
}

/** the short cause of a connection failure: `connect ECONNREFUSED` rather than a stack */
function reason(err: unknown): string {
  const e = err as { code?: string; syscall?: string; message?: string; errors?: unknown[] };
  if (Array.isArray(e.errors) && e.errors.length) return reason(e.errors[0]);
  if (e.syscall && e.code) return `${e.syscall} ${e.code}`;
  return (e.message ?? String(err)).split('\n')[0]!;
}

/** anything that runs one statement: the pool, or the client of a transaction */
export interface Sql {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class Db implements Sql {
  readonly pool: pg.Pool;
  /** `host:port/database`, for messages */
  readonly target: string;
  private closed = false;

  constructor(url: string, poolSize = DEFAULT_POOL_SIZE) {
    this.target = describeTarget(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'livetier',
      types,
    });
    // An idle client whose connection dies (a database restart) emits here; the pool has already
    // dropped it and opens a fresh one for the next query. Without a listener the process would crash.
    this.pool.on('error', () => {});
  }

  /** `err` as the store reports it: connection failures become StoreUnavailableError, the rest stay as they are */
  wrap(err: unknown): unknown {
    if (err instanceof StoreUnavailableError || !isUnavailable(err)) return err;
    return new StoreUnavailableError(`PostgreSQL at ${this.target} is unreachable: ${reason(err)}`);
  }

  async query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.open();
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /**
   * Runs `fn` in one transaction on one pooled client. A deadlock (two servers' batches locking
   * the same rows in different orders) rolls back and runs `fn` again: every caller's `fn` is a
   * pure function of its inputs and what it reads inside, so running it twice is safe.
   * `begin` may ask for another isolation level (a read-only snapshot, for an export).
   */
  async tx<T>(fn: (c: Sql) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    this.open();
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw this.wrap(err);
      }
      let broken: Error | undefined;
      // A checked-out client whose connection dies emits 'error' (besides failing its query); the
      // pool listens only to idle clients, and an unheard 'error' event would crash the process.
      const onError = (err: Error) => (broken ??= err);
      client.on('error', onError);
      try {
        await client.query(begin);
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        if (isUnavailable(err)) broken = err as Error;
        else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        if (!broken && attempt < TX_ATTEMPTS && RETRYABLE_SQLSTATES.has(sqlState(err) ?? '')) continue;
        throw this.wrap(err);
      } finally {
        client.off('error', onError);
        // a client whose connection failed is destroyed, not returned to the pool
        client.release(broken);
      }
    }
  }

  /** Connects once, so a wrong address fails at start with one clear line instead of at the first request. */
  async check(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      if (isUnavailable(err)) throw new StoreUnavailableError(`PostgreSQL at ${this.target} is unreachable: ${reason(err)}`);
      // reachable but refusing us (a wrong password, no such database): not worth a retry
      throw new Error(`PostgreSQL at ${this.target} refused the connection: ${reason(err)}`, { cause: err });
    }
    client.release();
  }

  /** a closed store is unavailable for good, like a database that went away */
  private open() {
    if (this.closed) throw new StoreUnavailableError(`the PostgreSQL store (${this.target}) is closed`);
  }

  end(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.pool.end();
  }
}

/** Double-quotes an identifier built by the store (partition names); everything else is a parameter. */
export const ident = (name: string): string => pg.escapeIdentifier(name);
