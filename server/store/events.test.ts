import { describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';

describe('events indexes (issue 7)', () => {
  it("a poll's answers are read through the partial poll_answer index, not the stream's other events", () => {
    const db = openDatabase(':memory:');
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all() as { name: string }[]).map((r) => r.name);
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
});
