import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type DB = Database.Database;

export interface OpenOptions {
  /** `normal` survives a process crash (kill -9); `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
}

/** Opens (creating if needed) the SQLite file in WAL mode and brings its schema up to date. */
export function openDatabase(file: string, opts: OpenOptions = {}): DB {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // issue 7: ingest commits often; checkpointing the WAL every 1,000 pages (the default) copied the
  // same hot index pages into the database again and again. Durability is unchanged (each commit
  // is in the WAL either way); the WAL grows to about 32 MB between checkpoints.
  db.pragma('wal_autocheckpoint = 8000');
  migrate(db);
  return db;
}

export function migrate(db: DB): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
