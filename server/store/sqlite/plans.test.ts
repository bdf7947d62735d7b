/**
 * Query plans: every statement the stores prepare that reads purchases, offers, campaign
 * assignments, a channel's streams or events is planned with an index that matches its lookup.
 * Without statistics SQLite once searched purchases by its primary key on `channel` alone (a scan
 * of the channel's orders per viewer); this keeps such a plan from coming back unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase, type DB } from './db.js';
import { createRepo } from './repo.js';
import { createViewerStore } from './viewers.js';
import { createCampaignStore } from './campaigns.js';
import { createDashboardQueries } from './dashboard.js';
import { mergeViewers } from './alias.js';
import { createKeyStore } from './keys.js';
import { createEventPurge } from './retention.js';

function preparedStatements(): { db: DB; sqls: string[]; byChannel: string[]; events: string[] } {
  const db = openDatabase(':memory:');
  const prepare = db.prepare.bind(db);
  const sqls: string[] = [];
  const byChannel: string[] = [];
  const events: string[] = [];
  db.prepare = ((sql: string) => {
    if (/\bevents\b/.test(sql) && !/^\s*(INSERT|CREATE)/i.test(sql)) events.push(sql);
    if (/\b(purchases|offers|campaign_assignments)\b/.test(sql) && !/^\s*(INSERT|CREATE)/i.test(sql)) sqls.push(sql);
    if (/\bstreams\b/.test(sql) && /channel = [?@]/.test(sql)) byChannel.push(sql);
    return prepare(sql);
  }) as DB['prepare'];
  createRepo(db);
  createViewerStore(db);
  createCampaignStore(db);
  createDashboardQueries(db);
  mergeViewers(db, 'shop', 'anon:a', 'b', 1); // prepares the alias statements
  createKeyStore(db);
  createEventPurge(db);
  db.prepare = prepare;
  return { db, sqls, byChannel, events };
}

function plan(db: DB, sql: string): string[] {
  const st = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const named = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1], null]));
  const rows = (Object.keys(named).length ? st.all(named) : st.all(...Array((sql.match(/\?/g) ?? []).length).fill(null))) as { detail: string }[];
  return rows.map((r) => r.detail);
}

/** the plan steps of `statements` that scan a table whole (`table` names it and its aliases) */
function scans(db: DB, statements: string[], table: RegExp): string[] {
  return statements.flatMap((sql) => plan(db, sql).filter((d) => new RegExp(`^SCAN (${table.source})\\b`).test(d)).map((d) => `${d}: ${sql.replace(/\s+/g, ' ').slice(0, 100)}`));
}

describe('query plans', () => {
  const { db, sqls, byChannel, events } = preparedStatements();

  it('finds the statements', () => {
    expect(sqls.length).toBeGreaterThan(20);
  });

  it("never searches purchases by channel alone (a scan of the channel's orders)", () => {
    const bad = sqls
      .map((sql) => ({ sql: sql.replace(/\s+/g, ' ').slice(0, 120), steps: plan(db, sql).filter((d) => /purchases.*PRIMARY KEY \(channel=\?\)$|SEARCH p USING PRIMARY KEY \(channel=\?\)$/.test(d)) }))
      .filter((x) => x.steps.length);
    expect(bad).toEqual([]);
  });

  it('scans no table of them whole', () => {
    expect(scans(db, sqls, /purchases|offers|campaign_assignments|p|o|a/)).toEqual([]);
  });

  it("reads a channel's streams from the streams_channel index, never every stream of every channel", () => {
    expect(byChannel.length).toBeGreaterThan(3);
    expect(scans(db, byChannel, /streams|s/)).toEqual([]);
  });

  it("reads a CSV page as a range of viewer_streams_first, never a sort of every viewer of the stream", () => {
    const csv = sqls.filter((sql) => /viewer_streams_first/.test(sql));
    expect(csv).toHaveLength(1);
    const steps = plan(db, csv[0]!);
    expect(steps.join('\n')).toMatch(/SEARCH vs USING (COVERING )?INDEX viewer_streams_first \(stream_id=\? AND \(first_seen_at,viewer_id\)>\(\?,\?\)\)/);
    expect(steps.filter((d) => /TEMP B-TREE/.test(d))).toEqual([]);
  });

  it('reads events of a viewer, a stream or a poll through an index, never a scan of every event', () => {
    expect(events.length).toBeGreaterThan(5);
    expect(scans(db, events, /events|e/)).toEqual([]);
  });
});
