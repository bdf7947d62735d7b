/**
 * Options from flags and environment, validated once. Flags win over environment.
 */
import { parseArgs } from 'node:util';

export interface Config {
  port: number;
  host: string;
  db: string;
  /** admin key; when not configured one is generated at start and printed once */
  adminKey: string;
  adminKeyGenerated: boolean;
  sync: 'normal' | 'full';
  logLevel: string;
}

export class ConfigError extends Error {}

export const DEFAULTS = { port: 8080, host: '127.0.0.1', db: './livetier.db', sync: 'normal', logLevel: 'info' } as const;

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv, generateAdminKey: () => string): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      sync: { type: 'string' },
      'log-level': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const portRaw = values.port ?? env.PORT ?? String(DEFAULTS.port);
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port > 65535) throw new ConfigError(`--port must be an integer 0-65535, got "${portRaw}"`);
  const sync = values.sync ?? env.LIVETIER_SYNC ?? DEFAULTS.sync;
  if (sync !== 'normal' && sync !== 'full') throw new ConfigError(`--sync must be normal or full, got "${sync}"`);
  const configuredKey = env.LIVETIER_ADMIN_KEY;
  if (configuredKey !== undefined && configuredKey.length < 16) throw new ConfigError('LIVETIER_ADMIN_KEY must be at least 16 characters');
  return {
    port,
    host: values.host ?? env.HOST ?? DEFAULTS.host,
    db: values.db ?? env.LIVETIER_DB ?? DEFAULTS.db,
    adminKey: configuredKey ?? generateAdminKey(),
    adminKeyGenerated: configuredKey === undefined,
    sync,
    logLevel: values['log-level'] ?? env.LOG_LEVEL ?? DEFAULTS.logLevel,
  };
}
