import { describe, expect, it } from 'vitest';
import { openDatabase } from './store/sqlite/db.js';
import { createRepo } from './store/sqlite/repo.js';
import { Engine } from './engine.js';
import type { ValidEvent } from './ingest/schema.js';

function setup() {
  const repo = createRepo(openDatabase(':memory:'));
  const now = Date.UTC(2026, 0, 15, 12);
  const engine = new Engine(repo, () => now);
  repo.ensureChannel('shop', 'secret', now);
  repo.insertStream({ id: 's1', channel: 'shop', title: 'Live', allowedOrigins: [], hostKeyHash: 'h', ingestKeyHash: 'i', createdAt: now });
  const comment = (id: string) => ({ id, type: 'comment', ts: now, data: { text: 'hi' } }) as ValidEvent;
  return { repo, engine, comment };
}

describe('reasons-only writes (issue 7: one queued write per viewer)', () => {
  it('a queued reasons write takes the newest values: a tier change before it commits is not undone', async () => {
    const { repo, engine, comment } = setup();
    await engine.join('s1', 'v1', true);
    await engine.track('s1', 'v1', [comment('e1')]);
    // the comment moved only the numbers in the reasons: their write waits for the next commit
    expect(engine.writer.pending).toBeGreaterThan(0);
    engine.recordPurchase('s1', { orderId: 'o1', viewerId: 'v1', amount: 50_000, currency: 'CNY' }); // potential → mid, written at once
    engine.writer.flushAll();
    const row = repo.getViewer('shop', 'v1')!;
    expect(row.tier).toBe('mid');
    expect(row.reasons).toEqual(engine.tierOf('shop', 'v1').reasons);
  });

  it('several changes of one viewer before a commit queue one write, with the last reasons', async () => {
    const { repo, engine, comment } = setup();
    await engine.join('s1', 'v1', true);
    engine.writer.flushAll();
    const tracks = [engine.track('s1', 'v1', [comment('e1')]), engine.track('s1', 'v1', [comment('e2')]), engine.track('s1', 'v1', [comment('e3')])];
    engine.writer.flush(); // the three tracks commit together; each re-tiers the viewer after the commit
    await Promise.all(tracks);
    expect(engine.writer.pending).toBe(1);
    engine.writer.flush();
    expect(repo.getViewer('shop', 'v1')!.reasons).toContain('3 comments');
  });
});

describe('alias (issue 5)', () => {
  it("moves the anonymous viewer's events still queued for the next commit too", async () => {
    const { repo, engine, comment } = setup();
    await engine.join('s1', 'anon:v_x', false);
    const queued = engine.track('s1', 'anon:v_x', [comment('e1'), comment('e2')]); // not committed yet
    expect(engine.writer.pending).toBeGreaterThan(0);
    expect(engine.alias('shop', 'anon:v_x', 'dave')).toMatchObject({ merged: true, events: 2 });
    await queued;
    const owners = repo.db.prepare("SELECT DISTINCT viewer_id FROM events WHERE id IN ('e1', 'e2')").all();
    expect(owners).toEqual([{ viewer_id: 'dave' }]);
    expect(repo.getViewer('shop', 'dave')).toMatchObject({ comments: 2 });
    expect(repo.getViewer('shop', 'anon:v_x')).toBeNull();
  });

  it("moves the anonymous viewer's holdout assignments, so their later purchases count for that arm", async () => {
    const { repo, engine } = setup();
    await engine.join('s1', 'anon:v_y', false);
    repo.db.prepare("INSERT INTO campaign_assignments (stream_id, campaign_id, viewer_id, channel, arm, at) VALUES ('s1', 'c1', 'anon:v_y', 'shop', 'control', 1)").run();
    engine.alias('shop', 'anon:v_y', 'erin');
    expect(repo.db.prepare("SELECT viewer_id, arm FROM campaign_assignments WHERE campaign_id = 'c1'").all()).toEqual([{ viewer_id: 'erin', arm: 'control' }]);
  });
});
