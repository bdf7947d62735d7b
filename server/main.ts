/**
 * The CLI: `livetier serve [--port 8080] [--host 127.0.0.1] [--db ./livetier.db | postgres://…] …`,
 * `livetier backup --db FILE --out FILE`, `livetier migrate-db --from FILE --to postgres://…` and
 * `livetier predict --transactions FILE …` (./cli/predict.ts). Builds the app, listens, and shuts down cleanly on
 * SIGINT/SIGTERM: no new connections, queued writes committed and acked, clients told to
 * reconnect (their transport closes), exit within 5 s.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import app, { fastifyOptions } from './app.js';
import { loadConfig, ConfigError, type Config } from './config.js';
import { generateKey } from './auth/keys.js';
import { backupDatabase } from './store/sqlite/backup.js';
import { describeDb, isPostgresUrl } from './store/index.js';
import { StoreUnavailableError } from './store/types.js';
import { migrateDbCommand } from './store/migrate-db.js';
import { PREDICT_USAGE, predictCommand } from './cli/predict.js';
import { IMPORT_USAGE, importOrdersCommand } from './cli/import-orders.js';
import { RedisUnavailableError } from './app.js';
import { isWorker, runPrimary, WORKER_READY } from './workers.js';
import { listenMetrics, shareWithPrimary, workersScrape, type MetricsListener } from './metrics.js';

export interface Running {
  url: string;
  /** `--metrics-port`: where GET /metrics answers without a key */
  metricsUrl?: string;
  config: Config;
  app: Awaited<ReturnType<typeof build>>;
  close: () => Promise<void>;
}

async function build(config: Config) {
  const fastify = Fastify(fastifyOptions(config.logLevel, config.trustProxy));
  await fastify.register(app, {
    db: config.db,
    dbPool: config.dbPool,
    redis: config.redis,
    sticky: isWorker(),
    adminKey: config.adminKey,
    sync: config.sync,
    retentionDays: config.retentionDays,
    limits: config.limits,
    trustProxy: config.trustProxy,
    webhooks: { allowHttp: config.webhooksAllowHttp, disableAfterMs: config.webhooksDisableAfterHours * 3_600_000 },
    streamIdleEndMs: config.streamIdleEndMinutes * 60_000,
    models: { refitMs: config.modelRefitHours * 3_600_000, minBuyers: config.modelMinBuyers },
  });
  return fastify;
}

export async function serve(config: Config): Promise<Running> {
  const fastify = await build(config);
  await fastify.listen({ port: config.port, host: config.host });
  const addr = fastify.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  let metrics: MetricsListener | undefined;
  if (config.metricsPort !== null) {
    try {
      metrics = await listenMetrics({ port: config.metricsPort, host: config.metricsHost, scrape: () => fastify.metrics.text(), contentType: fastify.metrics.contentType });
    } catch (err) {
      await fastify.close();
      throw err;
    }
  }
  const close = async () => {
    await metrics?.close();
    await fastify.close();
  };
  return { url: `http://${host}:${port}`, metricsUrl: metrics?.url, config, app: fastify, close };
}

/** `--workers N` with `--metrics-port`: the primary serves the sum of every worker's metrics */
async function primaryMetrics(config: Config, primary: { url: string; close: () => Promise<void> }) {
  if (config.metricsPort === null) return primary;
  const listener = await listenMetrics({ port: config.metricsPort, host: config.metricsHost, ...workersScrape() }).catch(async (err) => {
    await primary.close();
    throw err;
  });
  return {
    url: primary.url,
    metricsUrl: listener.url,
    close: async () => {
      await listener.close();
      await primary.close();
    },
  };
}

const USAGE = `usage: livetier serve [--port 8080] [--host 127.0.0.1] [--db ./livetier.db | postgres://…] [--db-pool 10] [--sync normal|full] [--log-level info]
                      [--redis redis://…] [--workers N|auto]
                      [--retention-days 90] [--trust-proxy HOPS|ADDR,CIDR…] [--limit-<name> N …]
                      [--metrics-port N] [--metrics-host 127.0.0.1]
                      [--webhooks-allow-http] [--webhooks-disable-after-hours 72] [--stream-idle-end-minutes 60]
                      [--model-refit-hours 6] [--model-min-buyers 200]
       livetier backup --db FILE --out FILE
       livetier migrate-db --from ./livetier.db --to postgres://…
       ${PREDICT_USAGE}   (livetier predict --help)
       ${IMPORT_USAGE}

environment: PORT, HOST, LIVETIER_DB, LIVETIER_DB_POOL, LIVETIER_REDIS, LIVETIER_WORKERS, LIVETIER_ADMIN_KEY, LIVETIER_SYNC, LOG_LEVEL, LIVETIER_RETENTION_DAYS, LIVETIER_TRUST_PROXY,
             LIVETIER_METRICS_PORT, LIVETIER_METRICS_HOST, LIVETIER_WEBHOOKS_ALLOW_HTTP, LIVETIER_WEBHOOKS_DISABLE_AFTER_HOURS, LIVETIER_STREAM_IDLE_END_MINUTES, LIVETIER_MODEL_REFIT_HOURS, LIVETIER_MODEL_MIN_BUYERS,
             LIVETIER_LIMIT_* (see docs/configuration.md)`;

/** `livetier backup --db FILE --out FILE`: an online, consistent copy of a (running) server's database. */
async function backupCommand(argv: string[]): Promise<void> {
  let values: { db?: string; out?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { db: { type: 'string' }, out: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const db = values.db ?? process.env.LIVETIER_DB;
  if (!db || !values.out) {
    console.error(`backup needs --db FILE and --out FILE\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (isPostgresUrl(db)) {
    console.error(`backup copies a SQLite file; for PostgreSQL use its own tools, e.g. pg_dump --format=custom --file=livetier.dump '${describeDb(db)}'`);
    process.exitCode = 2;
    return;
  }
  try {
    const r = await backupDatabase(db, values.out);
    if (r.integrity !== 'ok') throw new Error(`the copy failed its integrity check: ${r.integrity}`);
    process.stdout.write(`LiveTier backup of ${db} written to ${r.out} (${r.totalPages} pages, integrity ok)\n`);
  } catch (err) {
    console.error(`backup failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

export async function cli(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === 'backup') return backupCommand(rest);
  if (command === 'migrate-db') return migrateDbCommand(rest, USAGE);
  if (command === 'predict') return predictCommand(rest);
  if (command === 'import-orders') {
    try {
      process.exitCode = await importOrdersCommand(rest);
    } catch (err) {
      process.stderr.write(`livetier import-orders: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
    return;
  }
  if (command !== 'serve') {
    console.error(`unknown command "${command}"\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  let config: Config;
  try {
    config = loadConfig(rest, process.env, () => generateKey('admin'));
  } catch (err) {
    if (err instanceof ConfigError || (err as any)?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  let running: { url: string; metricsUrl?: string; close: () => Promise<void> };
  try {
    if (isWorker()) {
      // a worker of --workers N: ready for the connections the primary hands over; the primary prints
      const fastify = await build(config);
      await fastify.ready();
      if (config.metricsPort !== null) shareWithPrimary(fastify.metrics.registry); // the primary serves the sum
      installShutdown({ close: () => fastify.close() });
      process.send?.({ type: WORKER_READY });
      return;
    }
    running = config.workers > 1 ? await primaryMetrics(config, await runPrimary(config)) : await serve(config);
  } catch (err) {
    if (err instanceof StoreUnavailableError || err instanceof RedisUnavailableError) {
      // one clear line, no stack: the operator's fix is outside this process
      console.error(`livetier: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  if (config.adminKeyGenerated) {
    // printed once, on stdout, never logged: set LIVETIER_ADMIN_KEY to keep a fixed key
    process.stdout.write(`LiveTier admin key (generated; set LIVETIER_ADMIN_KEY to choose one): ${config.adminKey}\n`);
  }
  // before the "listening" line, so whoever waits for that one has this one too
  if (running.metricsUrl) process.stdout.write(`LiveTier metrics on ${running.metricsUrl} (no key: keep this address private)\n`);
  process.stdout.write(`LiveTier listening on ${running.url}\n`);
  installShutdown(running);
}

export function installShutdown(running: { close: () => Promise<void> }) {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`shutdown after ${signal} failed`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
