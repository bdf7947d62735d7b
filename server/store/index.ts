/**
 * Opens the store a `--db` value names: a `postgres://` or `postgresql://` URL selects
 * PostgreSQL (a pool shared by every request); anything else is the path of a SQLite file,
 * the embedded default. Both are migrated to the current schema before this resolves.
 */
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** SQLite: `normal` survives a process crash (kill -9); `full` also survives power loss */
  sync?: 'normal' | 'full';
  /** PostgreSQL: connections in the pool */
  poolSize?: number;
}

export const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db);

export async function openStore(db: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { createPostgresStore } = await import('./postgres/index.js');
    return createPostgresStore(db, { poolSize: opts.poolSize });
  }
  const { openSqliteStore } = await import('./sqlite/index.js');
  return openSqliteStore(db, { synchronous: opts.sync });
}

/** a database URL with its password masked, for messages and logs */
export function describeDb(db: string): string {
  if (!isPostgresUrl(db)) return db;
  try {
    const u = new URL(db);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
