import { describe, expect, it } from 'vitest';
import { GroupCommitWriter } from './writer.js';

/** a commit that records its batches; `fail` makes the next one reject */
function recorder() {
  const batches: number[][] = [];
  let fail = false;
  const commit = async (jobs: number[]) => {
    if (fail) {
      fail = false;
      throw new Error('commit failed');
    }
    batches.push(jobs);
    return jobs.map((j) => j * 10);
  };
  return { batches, commit, failNext: () => (fail = true) };
}

describe('GroupCommitWriter', () => {
  it('commits jobs submitted in the same turn in one batch, before resolving', async () => {
    const r = recorder();
    const w = new GroupCommitWriter(r.commit);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => w.submit(i)));
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i * 10));
    expect(r.batches.map((b) => b.length)).toEqual([100]);
  });

  it('starts the next batch as soon as the previous one ends, without waiting for a timer', async () => {
    const r = recorder();
    const w = new GroupCommitWriter(r.commit);
    await w.submit(1);
    await Promise.all([w.submit(2), w.submit(3)]);
    expect(r.batches).toEqual([[1], [2, 3]]);
  });

  it('keeps one batch in flight: jobs submitted during a commit go in the next batch, in order', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const batches: number[][] = [];
    const w = new GroupCommitWriter(async (jobs: number[]) => {
      batches.push(jobs);
      if (batches.length === 1) await gate;
      return jobs;
    });
    const first = w.submit(1);
    await new Promise((res) => setImmediate(res));
    const later = [w.submit(2), w.submit(3)];
    await new Promise((res) => setImmediate(res));
    expect(batches).toEqual([[1]]); // the second batch waits for the first commit
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('rejects the jobs of a failing batch, and keeps working', async () => {
    const r = recorder();
    const w = new GroupCommitWriter(r.commit);
    await w.submit(1);
    r.failNext();
    await expect(Promise.all([w.submit(2), w.submit(3)])).rejects.toThrow('commit failed');
    await expect(w.submit(4)).resolves.toBe(40);
  });

  it('resolves after afterCommit ran; a failing afterCommit is reported, the jobs still resolve', async () => {
    const seen: number[] = [];
    const errors: unknown[] = [];
    const w = new GroupCommitWriter(async (jobs: number[]) => jobs, {
      afterCommit: (jobs) => {
        seen.push(...jobs);
        if (jobs.includes(2)) throw new Error('after failed');
      },
      onError: (err) => errors.push(err),
    });
    await w.submit(1);
    expect(seen).toEqual([1]);
    await expect(w.submit(2)).resolves.toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('splits large queues into batches of maxBatch', async () => {
    const r = recorder();
    const w = new GroupCommitWriter(r.commit, { maxBatch: 10 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => w.submit(i)));
    expect(r.batches.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('flushQueued() waits for what was queued when it was called, not for jobs that keep coming', async () => {
    // a shutdown drains while connected clients still send: each commit brings two more jobs
    const batches: number[][] = [];
    let next = 100;
    const w: GroupCommitWriter<number, number> = new GroupCommitWriter(async (jobs: number[]) => {
      batches.push(jobs);
      await new Promise((r) => setTimeout(r, 1));
      w.submit(next++).catch(() => {}); // refused once closed
      w.submit(next++).catch(() => {}); // refused once closed
      return jobs;
    }, { maxBatch: 2 });
    const early = [1, 2, 3, 4, 5].map((j) => w.submit(j));
    await w.flushQueued();
    // the five early jobs are committed; it returned although jobs kept coming
    await expect(Promise.all(early)).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(batches.flat()).toEqual(expect.arrayContaining([1, 2, 3, 4, 5]));
    expect(batches.length).toBeLessThan(10);
    await w.close().catch(() => {});
  });

  it('close() commits what is queued and refuses more', async () => {
    const r = recorder();
    const w = new GroupCommitWriter(r.commit);
    const p = w.submit(7);
    await w.close();
    expect(r.batches).toEqual([[7]]);
    await expect(p).resolves.toBe(70);
    await expect(w.submit(8)).rejects.toThrow(/closed/);
  });
});
