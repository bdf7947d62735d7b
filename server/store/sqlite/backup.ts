/**
 * `livetier backup`: a consistent copy of a live database through SQLite's online backup API
 * (better-sqlite3's `db.backup()`), safe while the server writes: the copy is one point in
 * time. After a first small step the rest is copied in one step: in WAL mode that step reads one
 * snapshot and never blocks the server's writers (a copy in many small steps would restart after
 * every write of the busy server and might never finish).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface BackupResult {
  out: string;
  totalPages: number;
  /** `PRAGMA integrity_check` of the copy */
  integrity: string;
}

export async function backupDatabase(dbFile: string, outFile: string): Promise<BackupResult> {
  if (!existsSync(dbFile)) throw new Error(`no database at ${dbFile}`);
  if (path.resolve(dbFile) === path.resolve(outFile)) throw new Error('--out must differ from --db');
  // a normal (not readonly) connection: reading a WAL database needs its -shm file
  const db = new Database(dbFile, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  let totalPages = 0;
  try {
    await db.backup(outFile, {
      progress: (info) => {
        totalPages = info.totalPages;
        return Math.max(100, info.remainingPages);
      },
    });
  } finally {
    db.close();
  }
  const copy = new Database(outFile, { fileMustExist: true });
  try {
    const integrity = copy.pragma('integrity_check', { simple: true }) as string;
    return { out: outFile, totalPages, integrity };
  } finally {
    copy.close();
  }
}
