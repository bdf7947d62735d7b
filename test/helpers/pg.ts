/**
 * The PostgreSQL server the tests' PostgreSQL half runs against, and the throwaway databases made
 * on it: each test server gets a database of its own (`CREATE DATABASE lt_…`), dropped when the
 * test is done with it, so test files never see one another's rows and can run in parallel.
 *
 * `LIVETIER_TEST_PG` names a maintenance database on the server (any database the user may
 * connect to; the new ones are created beside it), default the local `postgres` one with trust
 * authentication, as CI and a developer's machine have it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeDb } from '../../server/store/index.js';

export const PG_ADMIN_URL = process.env.LIVETIER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** the admin URL with its password masked, for messages */
export const PG_ADMIN_LABEL = describeDb(PG_ADMIN_URL);

/** prefix of every test database; the global setup drops what a run left behind by it */
export const TEST_DB_PREFIX = 'lt_';

const CONNECT_TIMEOUT_MS = 3_000;

async function withAdmin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // a server going away mid-query rejects the query; the client's own 'error' event adds nothing
  c.on('error', () => {});
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** `postgres://…/<name>`: the admin URL with another database (its host, user and options kept) */
export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** the database a URL names */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Creates an empty database and returns its URL. `run` (the global setup's run id) goes into the
 * name, so the run's teardown can find what a crashed or timed-out test file did not drop.
 */
export async function createDatabase(run?: string): Promise<string> {
  const name = `${TEST_DB_PREFIX}${run ? `${run}_` : ''}${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return databaseUrl(name);
}

/** Drops a database, closing whatever connections it still has (a killed server's, a test's reader). */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** Drops every database of one run (the ones its test files left behind); returns their names. */
export async function dropRunDatabases(run: string): Promise<string[]> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [`${TEST_DB_PREFIX}${run}_`]);
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    return rows.map((r) => r.datname);
  });
}

/** null when the server answers, else why not (`connect ECONNREFUSED 127.0.0.1:5432`) */
export async function pgUnreachable(): Promise<string | null> {
  try {
    await withAdmin((c) => c.query('SELECT 1'));
    return null;
  } catch (err) {
    const e = err as { errors?: unknown[]; message?: string };
    const first = Array.isArray(e.errors) && e.errors.length ? (e.errors[0] as { message?: string }) : e;
    return (first.message ?? String(err)).split('\n')[0]!;
  }
}
