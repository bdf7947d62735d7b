/**
 * Options from flags and environment, validated once. Flags win over environment.
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { trustFn, type TrustProxy } from './trust-proxy.js';

/** Limits against floods and hostile clients. Every one is configurable; 0 turns a rate limit off. */
export interface Limits {
  /** events per second one viewer connection may `track` (sustained); events beyond it are rejected with `rate_limited` */
  eventsPerSecond: number;
  /** events one connection may send in a burst before the per-second rate applies */
  eventsBurst: number;
  /** `track` calls one connection may have waiting for their commit; more are answered `rate_limited` */
  maxInflightTracks: number;
  /** new socket.io connections per IP per minute */
  connectionsPerMinute: number;
  /** sockets one viewer may have open at once in a channel (tabs, devices) */
  connectionsPerViewer: number;
  /** REST requests per IP per minute (@fastify/rate-limit) */
  restPerMinute: number;
  /** outgoing packets a viewer socket may have buffered (it is not reading) before it is disconnected */
  maxBufferedPackets: number;
}

export interface Config {
  port: number;
  host: string;
  /** a SQLite file path, or a postgres:// (postgresql://) URL */
  db: string;
  /** PostgreSQL: connections in each process's pool */
  dbPool: number;
  /** Redis URL for cluster mode (socket.io's adapter, shared live counts, cross-node limits); null: one process alone */
  redis: string | null;
  /** processes on this machine behind one port (node:cluster); 1 runs the server in this process */
  workers: number;
  /** admin key; when not configured one is generated at start and printed once */
  adminKey: string;
  adminKeyGenerated: boolean;
  sync: 'normal' | 'full';
  logLevel: string;
  /** raw events older than this many days are purged in the background; 0 keeps them forever */
  retentionDays: number;
  limits: Limits;
  /** proxies whose `X-Forwarded-For` names the client for the per-IP limits (false: the TCP peer counts) */
  trustProxy: TrustProxy;
  /** `GET /metrics` without a key on a listener of its own (0: any free port); null: only on the main port, with the admin key */
  metricsPort: number | null;
  /** the address the metrics listener binds (loopback unless told otherwise) */
  metricsHost: string;
  /** `--webhooks-allow-http`: webhook URLs may be http:// and point at loopback (development, tests) */
  webhooksAllowHttp: boolean;
  /** an endpoint whose deliveries keep failing this long is disabled (hours) */
  webhooksDisableAfterHours: number;
  /** a stream nobody is connected to for this long ends by itself, and `stream.ended` is sent (minutes; 0: never) */
  streamIdleEndMinutes: number;
  /** each channel's predictive model is fitted again when this old (hours; 0: only at first sight and on demand) */
  modelRefitHours: number;
  /** a channel needs this many buyers for a predictive model */
  modelMinBuyers: number;
}

export class ConfigError extends Error {}

export const DEFAULT_LIMITS: Limits = {
  eventsPerSecond: 200,
  eventsBurst: 2000,
  maxInflightTracks: 16,
  connectionsPerMinute: 6000,
  connectionsPerViewer: 20,
  restPerMinute: 6000,
  maxBufferedPackets: 1000,
};

export const DEFAULTS = {
  port: 8080, host: '127.0.0.1', db: './livetier.db', dbPool: 10, sync: 'normal', logLevel: 'info', retentionDays: 90, metricsHost: '127.0.0.1',
  webhooksDisableAfterHours: 72, streamIdleEndMinutes: 60, modelRefitHours: 6, modelMinBuyers: 200,
} as const;

/** flag → [environment variable, Limits field] */
const LIMIT_OPTIONS = {
  'limit-events-per-second': ['LIVETIER_LIMIT_EVENTS_PER_SECOND', 'eventsPerSecond'],
  'limit-events-burst': ['LIVETIER_LIMIT_EVENTS_BURST', 'eventsBurst'],
  'limit-inflight-tracks': ['LIVETIER_LIMIT_INFLIGHT_TRACKS', 'maxInflightTracks'],
  'limit-connections-per-minute': ['LIVETIER_LIMIT_CONNECTIONS_PER_MINUTE', 'connectionsPerMinute'],
  'limit-connections-per-viewer': ['LIVETIER_LIMIT_CONNECTIONS_PER_VIEWER', 'connectionsPerViewer'],
  'limit-rest-per-minute': ['LIVETIER_LIMIT_REST_PER_MINUTE', 'restPerMinute'],
  'limit-buffered-packets': ['LIVETIER_LIMIT_BUFFERED_PACKETS', 'maxBufferedPackets'],
} as const satisfies Record<string, readonly [string, keyof Limits]>;

/** `--trust-proxy`: off (`false`, `0`, empty), a hop count, or a comma-separated list of addresses / CIDRs */
function parseTrustProxy(raw: string | undefined): TrustProxy {
  const v = raw?.trim() ?? '';
  if (v === '' || v === 'false' || /^0+$/.test(v)) return false;
  if (/^\d{1,3}$/.test(v)) return Number(v);
  const list = v.split(',').map((a) => a.trim()).filter(Boolean);
  try {
    trustFn(list);
  } catch (err) {
    throw new ConfigError(`--trust-proxy must be a hop count or a comma-separated list of addresses/CIDRs: ${(err as Error).message}`);
  }
  return list;
}

function nonNegativeInt(name: string, raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv, generateAdminKey: () => string): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      'db-pool': { type: 'string' },
      redis: { type: 'string' },
      workers: { type: 'string' },
      sync: { type: 'string' },
      'log-level': { type: 'string' },
      'retention-days': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'webhooks-allow-http': { type: 'boolean' },
      'webhooks-disable-after-hours': { type: 'string' },
      'stream-idle-end-minutes': { type: 'string' },
      'model-refit-hours': { type: 'string' },
      'model-min-buyers': { type: 'string' },
      ...Object.fromEntries(Object.keys(LIMIT_OPTIONS).map((k) => [k, { type: 'string' as const }])),
    },
    strict: true,
    allowPositionals: false,
  });
  const flags = values as Record<string, string | undefined>;
  const allowHttpEnv = env.LIVETIER_WEBHOOKS_ALLOW_HTTP;
  const webhooksAllowHttp = (values as Record<string, unknown>)['webhooks-allow-http'] === true || allowHttpEnv === '1' || allowHttpEnv === 'true';
  const webhooksDisableAfterHours = nonNegativeInt('--webhooks-disable-after-hours', flags['webhooks-disable-after-hours'] ?? env.LIVETIER_WEBHOOKS_DISABLE_AFTER_HOURS ?? String(DEFAULTS.webhooksDisableAfterHours));
  if (webhooksDisableAfterHours < 1) throw new ConfigError('--webhooks-disable-after-hours must be at least 1');
  const streamIdleEndMinutes = nonNegativeInt('--stream-idle-end-minutes', flags['stream-idle-end-minutes'] ?? env.LIVETIER_STREAM_IDLE_END_MINUTES ?? String(DEFAULTS.streamIdleEndMinutes));
  const modelRefitHours = nonNegativeInt('--model-refit-hours', flags['model-refit-hours'] ?? env.LIVETIER_MODEL_REFIT_HOURS ?? String(DEFAULTS.modelRefitHours));
  const modelMinBuyers = nonNegativeInt('--model-min-buyers', flags['model-min-buyers'] ?? env.LIVETIER_MODEL_MIN_BUYERS ?? String(DEFAULTS.modelMinBuyers));
  if (modelMinBuyers < 10) throw new ConfigError('--model-min-buyers must be at least 10 (a model of fewer buyers says nothing)');
  const portRaw = flags.port ?? env.PORT ?? String(DEFAULTS.port);
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port > 65535) throw new ConfigError(`--port must be an integer 0-65535, got "${portRaw}"`);
  const sync = flags.sync ?? env.LIVETIER_SYNC ?? DEFAULTS.sync;
  if (sync !== 'normal' && sync !== 'full') throw new ConfigError(`--sync must be normal or full, got "${sync}"`);
  const configuredKey = env.LIVETIER_ADMIN_KEY;
  if (configuredKey !== undefined && configuredKey.length < 16) throw new ConfigError('LIVETIER_ADMIN_KEY must be at least 16 characters');
  const retentionDays = nonNegativeInt('--retention-days', flags['retention-days'] ?? env.LIVETIER_RETENTION_DAYS ?? String(DEFAULTS.retentionDays));
  const dbPool = nonNegativeInt('--db-pool', flags['db-pool'] ?? env.LIVETIER_DB_POOL ?? String(DEFAULTS.dbPool));
  if (dbPool < 1) throw new ConfigError('--db-pool must be at least 1');
  const db = flags.db ?? env.LIVETIER_DB ?? DEFAULTS.db;
  const redis = flags.redis ?? env.LIVETIER_REDIS ?? null;
  if (redis !== null && !/^rediss?:\/\//.test(redis)) throw new ConfigError(`--redis must be a redis:// or rediss:// URL, got "${redis}"`);
  const workersRaw = flags.workers ?? env.LIVETIER_WORKERS ?? '1';
  const workers = workersRaw === 'auto' ? availableParallelism() : nonNegativeInt('--workers', workersRaw);
  if (workers < 1) throw new ConfigError('--workers must be at least 1 (or auto)');
  const postgres = /^postgres(ql)?:\/\//i.test(db);
  // several processes serve one audience only through a shared database and a shared bus
  if ((workers > 1 || redis) && !postgres) throw new ConfigError('cluster mode (--workers > 1 or --redis) needs --db postgres://… (SQLite belongs to one process)');
  if (workers > 1 && !redis) throw new ConfigError('--workers > 1 needs --redis redis://… (the processes share live counts and pushes through it)');
  const metricsPortRaw = flags['metrics-port'] ?? env.LIVETIER_METRICS_PORT;
  let metricsPort: number | null = null;
  if (metricsPortRaw !== undefined && metricsPortRaw !== '') {
    metricsPort = Number(metricsPortRaw);
    if (!/^\d{1,5}$/.test(metricsPortRaw) || metricsPort > 65535) throw new ConfigError(`--metrics-port must be an integer 0-65535, got "${metricsPortRaw}"`);
    if (metricsPort !== 0 && metricsPort === port) throw new ConfigError(`--metrics-port must differ from --port (${port})`);
  }
  const metricsHost = flags['metrics-host'] ?? env.LIVETIER_METRICS_HOST ?? DEFAULTS.metricsHost;
  if (metricsHost.trim() === '') throw new ConfigError('--metrics-host must be an address, e.g. 127.0.0.1');
  if (flags['metrics-host'] !== undefined && metricsPort === null) throw new ConfigError('--metrics-host needs --metrics-port (without it, /metrics is served on the main port with the admin key)');
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [flag, [envName, field]] of Object.entries(LIMIT_OPTIONS)) {
    const raw = flags[flag] ?? env[envName];
    if (raw !== undefined) limits[field] = nonNegativeInt(`--${flag}`, raw);
  }
  return {
    port,
    host: flags.host ?? env.HOST ?? DEFAULTS.host,
    db,
    dbPool,
    redis,
    workers,
    adminKey: configuredKey ?? generateAdminKey(),
    adminKeyGenerated: configuredKey === undefined,
    sync,
    logLevel: flags['log-level'] ?? env.LOG_LEVEL ?? DEFAULTS.logLevel,
    retentionDays,
    limits,
    trustProxy: parseTrustProxy(flags['trust-proxy'] ?? env.LIVETIER_TRUST_PROXY),
    metricsPort,
    metricsHost,
    webhooksAllowHttp,
    webhooksDisableAfterHours,
    streamIdleEndMinutes,
    modelRefitHours,
    modelMinBuyers,
  };
}
