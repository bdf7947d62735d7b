import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type DB } from './sqlite/db.js';
import { MIGRATIONS } from './sqlite/migrations.js';
import { GroupCommitWriter } from './writer.js';

let dir: string;
let db: DB;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'livetier-writer-'));
  db = openDatabase(path.join(dir, 'w.db'));
  db.exec('CREATE TABLE t (v INTEGER PRIMARY KEY)');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openDatabase', () => {
  it('uses WAL and records the schema version', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    // reopening does not re-run migrations
    db.close();
    db = openDatabase(path.join(dir, 'w.db'));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });
});

describe('GroupCommitWriter', () => {
  it('commits jobs submitted in the same turn in one transaction, before resolving', async () => {
    const batches: number[] = [];
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const w = new GroupCommitWriter<number, number>(db, (jobs) => {
      batches.push(jobs.length);
      return jobs.map((v) => insert.run(v).changes);
    });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => w.submit(i)));
    expect(results.every((r) => r === 1)).toBe(true);
    expect(batches).toEqual([100]);
    const other = new Database(path.join(dir, 'w.db'), { readonly: true });
    expect((other.prepare('SELECT COUNT(*) AS n FROM t').get() as any).n).toBe(100);
    other.close();
  });

  it('starts the next transaction as soon as the previous one ends, without waiting for a timer', async () => {
    const batches: number[][] = [];
    const w = new GroupCommitWriter<number, number>(db, (jobs) => (batches.push(jobs), jobs));
    const first = w.submit(1);
    await first;
    const second = w.submit(2);
    const third = w.submit(3);
    await Promise.all([second, third]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('rolls back a failing batch and rejects its jobs, and keeps working', async () => {
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const w = new GroupCommitWriter<number, number>(db, (jobs) => jobs.map((v) => insert.run(v).changes));
    await w.submit(1);
    const dup = w.submit(2);
    const clash = w.submit(1); // primary key violation fails the whole batch
    await expect(dup).rejects.toThrow();
    await expect(clash).rejects.toThrow();
    expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as any).n).toBe(1);
    await expect(w.submit(2)).resolves.toBe(1);
  });

  it('splits large queues into batches of maxBatch', async () => {
    const sizes: number[] = [];
    const w = new GroupCommitWriter<number, number>(db, (jobs) => (sizes.push(jobs.length), jobs), undefined, 10);
    await Promise.all(Array.from({ length: 25 }, (_, i) => w.submit(i)));
    expect(sizes).toEqual([10, 10, 5]);
  });

  it('close() commits what is queued and refuses more', async () => {
    const seen: number[] = [];
    const w = new GroupCommitWriter<number, number>(db, (jobs) => (seen.push(...jobs), jobs));
    const p = w.submit(7);
    w.close();
    expect(seen).toEqual([7]);
    await expect(p).resolves.toBe(7);
    await expect(w.submit(8)).rejects.toThrow(/closed/);
  });
});
