import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase, migrate } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { createRepo } from './repo.js';

const indexes = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('events indexes (issue 7)', () => {
  it("a poll's answers are read through the partial poll_answer index, not the stream's other events", () => {
    const db = openDatabase(':memory:');
    const names = indexes(db);
    expect(names).toContain('events_poll');
    expect(names).not.toContain('events_type');
    const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'events_poll'").get() as { sql: string }).sql;
    expect(sql).toMatch(/WHERE type = 'poll_answer'/);
    // the inner query of pollAnswers in dashboard.ts
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT json_extract(data, '$.value') AS value, MAX(rowid)
      FROM events WHERE stream_id = ? AND type = 'poll_answer' AND json_extract(data, '$.pollId') = ? AND received_at <= ? GROUP BY viewer_id`)
      .all('s', 'p', 1) as { detail: string }[];
    expect(plan.map((r) => r.detail).join('\n')).toMatch(/USING INDEX events_poll/);
  });

  it('an insert pays for one full index: the (stream_id, viewer_id, id) key, besides the partial one of poll answers', () => {
    const db = openDatabase(':memory:');
    expect(indexes(db)).toEqual(['events_key', 'events_poll']);
    const partial = db.prepare("SELECT name FROM pragma_index_list('events') WHERE partial = 1 ORDER BY name").all() as { name: string }[];
    expect(partial.map((r) => r.name)).toEqual(['events_poll']);
  });

  it("dedups a viewer's resent event by id, and never takes another viewer's event with the same id for it", () => {
    const repo = createRepo(openDatabase(':memory:'));
    const insert = (viewer: string, text: string) => repo.insertEvent('s', 'evt-1', viewer, 'comment', 1, 2, null, JSON.stringify({ text }));
    expect(insert('alice', 'hello')).toBe(true);
    expect(insert('alice', 'hello')).toBe(false); // the SDK's resend after a lost ack
    expect(insert('mallory', 'shadowing alice')).toBe(true); // a guessed id does not shadow alice's event
    expect(repo.countEvents('s')).toBe(2);
  });

  it('the migration to the single key keeps every event, its rowid (arrival order) and the dedup', () => {
    const db = new Database(':memory:');
    const before = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE events_new'));
    expect(before).toBeGreaterThan(0);
    for (let v = 0; v < before; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${before}`);
    expect(indexes(db)).toContain('events_viewer');
    const ins = db.prepare('INSERT INTO events (rowid, stream_id, id, viewer_id, type, client_ts, received_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const rows = [
      [7, 's1', 'a', 'v1', 'comment', 1, 10, '{"text":"first"}'],
      [9, 's1', 'b', 'v2', 'add_to_cart', 2, 11, '{"sku":"X"}'],
      [30, 's2', 'a', 'v1', 'poll_answer', 3, 12, '{"pollId":"p","value":"yes"}'],
    ] as const;
    for (const r of rows) ins.run(...r);
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(indexes(db)).toEqual(['events_key', 'events_poll']);
    const after = db.prepare('SELECT rowid, stream_id, id, viewer_id, type, client_ts, received_at, data FROM events ORDER BY rowid').all();
    expect(after.map((r) => Object.values(r as object))).toEqual(rows.map((r) => [...r]));
    expect(db.prepare("INSERT OR IGNORE INTO events (stream_id, id, viewer_id, type, client_ts, received_at) VALUES ('s1', 'a', 'v1', 'like', 4, 13)").run().changes).toBe(0);
    // new rows still come after the old ones
    db.prepare("INSERT INTO events (stream_id, id, viewer_id, type, client_ts, received_at) VALUES ('s1', 'c', 'v1', 'like', 4, 13)").run();
    expect((db.prepare("SELECT rowid FROM events WHERE id = 'c'").get() as { rowid: number }).rowid).toBeGreaterThan(30);
  });
});
