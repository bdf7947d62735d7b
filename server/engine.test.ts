import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './store/sqlite/index.js';
import { Engine } from './engine.js';
import type { ValidEvent } from './ingest/schema.js';
import { explainAll } from './tiering/explain.js';

async function setup() {
  const store = openSqliteStore(':memory:');
  const now = Date.UTC(2026, 0, 15, 12);
  const engine = new Engine(store, () => now);
  await store.createStream({ id: 's1', channel: 'shop', title: 'Live', allowedOrigins: [], hostKeyHash: 'h', ingestKeyHash: 'i', createdAt: now }, 'secret');
  const comment = (id: string) => ({ id, type: 'comment', ts: now, data: { text: 'hi' } }) as ValidEvent;
  return { store, engine, comment };
}

describe('tier writes: one queued write per viewer', () => {
  it('a queued reasons write takes the newest values: a tier change before it commits is not undone', async () => {
    const { store, engine, comment } = await setup();
    await engine.join('s1', 'v1', true);
    await engine.track('s1', 'v1', [comment('e1')]);
    // the comment moved only the numbers in the reasons: their write waits for the next commit
    expect(engine.writer.pending).toBeGreaterThan(0);
    await engine.recordPurchase('s1', { orderId: 'o1', viewerId: 'v1', amount: 50_000, currency: 'CNY' }); // potential → mid
    await engine.writer.flushAll();
    const row = (await store.getViewer('shop', 'v1'))!;
    expect(row.tier).toBe('mid');
    expect(row.explain).toEqual((await engine.tierOf('shop', 'v1')).explain);
  });

  it('several changes of one viewer before a commit queue one write, with the last reasons', async () => {
    const { store, engine, comment } = await setup();
    await engine.join('s1', 'v1', true);
    await engine.writer.flushAll();
    const tracks = [engine.track('s1', 'v1', [comment('e1')]), engine.track('s1', 'v1', [comment('e2')]), engine.track('s1', 'v1', [comment('e3')])];
    await Promise.all(tracks); // each re-tiers the viewer after its commit; their reasons writes share one queued job
    await engine.writer.flushAll();
    expect(explainAll((await store.getViewer('shop', 'v1'))!.explain).join(' · ')).toContain('3 comments');
  });

  it("a purchase's response comes after the viewer's new tier is stored", async () => {
    const { store, engine } = await setup();
    await engine.join('s1', 'v2', true);
    await engine.recordPurchase('s1', { orderId: 'o2', viewerId: 'v2', amount: 50_000, currency: 'CNY' });
    expect((await store.getViewer('shop', 'v2'))!.tier).toBe('mid');
  });
});

describe('watch credit on the server clock', () => {
  it("a viewer's heartbeats queued together are credited once, not once per heartbeat", async () => {
    let now = Date.UTC(2026, 0, 15, 12);
    const store = openSqliteStore(':memory:');
    const engine = new Engine(store, () => now);
    await store.createStream({ id: 's1', channel: 'shop', title: 'Live', allowedOrigins: [], hostKeyHash: 'h', ingestKeyHash: 'i', createdAt: now }, 'secret');
    await engine.join('s1', 'v1', true);
    now += 10_000;
    const beat = (id: string) => ({ id, type: 'watch', ts: now, data: { engagedMs: 10_000 } }) as ValidEvent;
    // two tabs' heartbeats land in one group commit: 10 s passed on the server, 10 s are credited
    await Promise.all([engine.track('s1', 'v1', [beat('w1')]), engine.track('s1', 'v1', [beat('w2')])]);
    expect((await store.getViewer('shop', 'v1'))!.watchMs).toBe(10_000);
  });
});

describe('alias', () => {
  it("moves the anonymous viewer's events still queued for the next commit too", async () => {
    const { store, engine, comment } = await setup();
    await engine.join('s1', 'anon:v_x', false);
    const queued = engine.track('s1', 'anon:v_x', [comment('e1'), comment('e2')]); // not committed yet
    expect(engine.writer.pending).toBeGreaterThan(0);
    expect(await engine.alias('shop', 'anon:v_x', 'dave')).toMatchObject({ merged: true, events: 2 });
    await queued;
    const exported = (await store.exportViewer('shop', 'dave'))!;
    expect(exported.events.map((e) => e.id).sort()).toEqual(['e1', 'e2']);
    expect(await store.getViewer('shop', 'dave')).toMatchObject({ comments: 2 });
    expect(await store.getViewer('shop', 'anon:v_x')).toBeNull();
  });
});

describe('alias and holdouts', () => {
  it("moves the anonymous viewer's holdout assignments, so their later purchases count for that arm", async () => {
    const { store, engine } = await setup();
    await engine.join('s1', 'anon:v_y', false);
    store.db.prepare("INSERT INTO campaign_assignments (stream_id, campaign_id, viewer_id, channel, arm, at) VALUES ('s1', 'c1', 'anon:v_y', 'shop', 'control', 1)").run();
    await engine.alias('shop', 'anon:v_y', 'erin');
    expect(store.db.prepare("SELECT viewer_id, arm FROM campaign_assignments WHERE campaign_id = 'c1'").all()).toEqual([{ viewer_id: 'erin', arm: 'control' }]);
  });
});
