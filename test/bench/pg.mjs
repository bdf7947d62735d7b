// The PostgreSQL side of the bench: the server it runs against, a throwaway database for each
// LiveTier server under test, the no-loss count, and the CPU PostgreSQL itself spends (its
// backends are other processes, so the LiveTier process's CPU leaves it out).
//
// LIVETIER_BENCH_PG names the admin URL (any database the user may connect to and create
// databases from); by default the local server with trust authentication.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.LIVETIER_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_PREFIX = 'lt_bench_';
const CLK_TCK = 100; // Linux's USER_HZ: /proc reports CPU time in these ticks on every common build

/** `host:port/database` of a URL, never its password */
export function pgLabel(url = PG_ADMIN_URL) {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured PostgreSQL';
  }
}

async function withClient(url, work) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  c.on('error', () => {}); // a failed query rejects; the client's own event adds nothing
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end().catch(() => {});
  }
}
const admin = (work) => withClient(PG_ADMIN_URL, work);

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const unanswered = (err) => NETWORK.has(err?.code) || /timeout/i.test(err?.message ?? '') || (Array.isArray(err?.errors) && err.errors.some(unanswered));

/**
 * null when PostgreSQL answers; else why not, for the report's skip line. A server that answers
 * but refuses (a wrong password, no such role) only means "skip" on the default URL: an URL the
 * user chose with LIVETIER_BENCH_PG should work, so its refusal fails the phase.
 */
export async function pgUnreachable() {
  try {
    await admin((c) => c.query('SELECT 1'));
    return null;
  } catch (err) {
    if (!unanswered(err) && process.env.LIVETIER_BENCH_PG) throw err;
    const first = Array.isArray(err?.errors) && err.errors.length ? err.errors[0] : err;
    return String(first?.message ?? err).split('\n')[0];
  }
}

const quote = (name) => `"${name.replace(/"/g, '""')}"`;
const dbName = (url) => decodeURIComponent(new URL(url).pathname.slice(1));

/** Cumulative CPU ticks (user + system) of each listed process; gone or foreign pids are left out. */
function ticks(pids) {
  const out = new Map();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      out.set(pid, Number(f[11]) + Number(f[12]));
    } catch {}
  }
  return out;
}

/**
 * The processes that do a database's work: its backends (the server's pool, autovacuum on it)
 * and PostgreSQL's shared background processes (WAL writer, checkpointer, background writer).
 * Other databases' backends (another bench, the tests) are not counted.
 */
async function workers(db) {
  const { rows } = await admin((c) => c.query(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 OR (datname IS NULL AND backend_type <> 'client backend')", [db]));
  return rows.map((r) => r.pid);
}

/** The store the bench's LiveTier servers use when they run on PostgreSQL (same shape as run.mjs's SQLite one). */
export function postgresStore() {
  const created = new Set();
  return {
    name: 'PostgreSQL',
    async serverVersion() {
      const { rows } = await admin((c) => c.query('SHOW server_version'));
      return rows[0].server_version.split(' ')[0];
    },
    /** a new empty database; the server under test migrates it */
    async create() {
      const name = `${DB_PREFIX}${randomBytes(6).toString('hex')}`;
      await admin((c) => c.query(`CREATE DATABASE ${quote(name)}`));
      const u = new URL(PG_ADMIN_URL);
      u.pathname = `/${name}`;
      created.add(u.toString());
      return u.toString();
    },
    async countIngested(url, streamId) {
      const { rows } = await withClient(url, (c) => c.query(
        "SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND viewer_id LIKE 'anon:ingest-%'", [streamId]));
      return rows[0].n;
    },
    /** FORCE ends whatever connections a killed server left open */
    async drop(url) {
      created.delete(url);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quote(dbName(url))} WITH (FORCE)`));
    },
    async dropAll() {
      for (const url of [...created]) await this.drop(url).catch(() => {});
    },
    /**
     * Starts measuring the CPU PostgreSQL spends on `url`'s database; `read()` answers in cores
     * (CPU seconds per second) since the start, NaN when PostgreSQL's processes are not on this
     * machine. A backend that exits between the two readings loses what it spent (the pool keeps
     * its connections while the server is busy, so that is an idle one).
     */
    async meterCpu(url) {
      const db = dbName(url);
      const before = ticks(await workers(db));
      const t0 = performance.now();
      return {
        async read() {
          const wall = (performance.now() - t0) / 1000;
          const after = ticks(await workers(db));
          if (!after.size) return NaN;
          let used = 0;
          for (const [pid, t] of after) used += t - (before.get(pid) ?? 0);
          return used / CLK_TCK / wall;
        },
      };
    },
  };
}
