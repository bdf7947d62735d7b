/**
 * Due work (jobs/due.ts) on SQLite: the statements behind the outbox rows a commit writes beside
 * its cause, the claim with a lease, and the effect keys that make a job's issues exact. One
 * process owns a SQLite file, so a claim is a plain UPDATE in a transaction.
 */
import type { DB } from './db.js';
import type { JobKind, JobRow, NewJob } from '../../jobs/due.js';

const jobFrom = (r: any): JobRow => ({
  id: r.id, kind: r.kind as JobKind, channel: r.channel, streamId: r.stream_id, viewerId: r.viewer_id,
  payload: JSON.parse(r.payload), runAt: r.run_at, armedAt: r.armed_at, attempts: r.attempts,
});

export type JobStore = ReturnType<typeof createJobStore>;

export function createJobStore(db: DB) {
  const s = {
    // a new cart, or the same viewer's next add_to_cart: the job is armed again (a run holding the
    // old instance finishes it by its armed_at, which no longer matches)
    arm: db.prepare(`INSERT INTO jobs (id, kind, channel, stream_id, viewer_id, payload, run_at, armed_at, locked_until, attempts)
      VALUES (@id, @kind, @channel, @streamId, @viewerId, @payload, @runAt, @armedAt, @lockedUntil, @attempts)
      ON CONFLICT (id) DO UPDATE SET stream_id = excluded.stream_id, payload = excluded.payload, run_at = excluded.run_at,
        armed_at = excluded.armed_at, locked_until = excluded.locked_until, attempts = excluded.attempts`),
    create: db.prepare(`INSERT OR IGNORE INTO jobs (id, kind, channel, stream_id, viewer_id, payload, run_at, armed_at, locked_until, attempts)
      VALUES (@id, @kind, @channel, @streamId, @viewerId, @payload, @runAt, @armedAt, @lockedUntil, @attempts)`),
    get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
    remove: db.prepare('DELETE FROM jobs WHERE id = ?'),
    claim: db.prepare(`UPDATE jobs SET locked_until = @until, attempts = attempts + 1
      WHERE id IN (SELECT id FROM jobs WHERE run_at <= @now AND locked_until <= @now ORDER BY run_at LIMIT @limit)
      RETURNING *`),
    finish: db.prepare('DELETE FROM jobs WHERE id = ? AND armed_at = ?'),
    retry: db.prepare('UPDATE jobs SET run_at = ?, locked_until = 0 WHERE id = ? AND armed_at = ?'),
    eraseViewer: db.prepare('DELETE FROM jobs WHERE channel = ? AND viewer_id = ?'),
    effect: db.prepare('INSERT OR IGNORE INTO job_effects (key, campaign_id, at) VALUES (?, ?, ?)'),
    prune: db.prepare('DELETE FROM job_effects WHERE at < ?'),
  };

  return {
    /** creates or re-arms a job; `claimedUntil` > 0: held by the caller (it runs it now) */
    arm(j: NewJob, claimedUntil = 0) {
      s.arm.run({ ...j, payload: JSON.stringify(j.payload), lockedUntil: claimedUntil, attempts: claimedUntil ? 1 : 0 });
    },
    /** creates a job unless its id exists; returns it when created (claimed until `claimedUntil`) */
    create(j: NewJob, claimedUntil: number): JobRow | null {
      const r = s.create.run({ ...j, payload: JSON.stringify(j.payload), lockedUntil: claimedUntil, attempts: 1 });
      return r.changes ? { ...j, attempts: 1 } : null;
    },
    remove(id: string) {
      s.remove.run(id);
    },
    claim(now: number, limit: number, leaseMs: number): JobRow[] {
      return (s.claim.all({ now, until: now + leaseMs, limit }) as any[]).map(jobFrom).sort((a, b) => a.runAt - b.runAt);
    },
    finish(id: string, armedAt: number) {
      s.finish.run(id, armedAt);
    },
    retry(id: string, armedAt: number, runAt: number) {
      s.retry.run(runAt, id, armedAt);
    },
    eraseViewer(channel: string, viewerId: string) {
      s.eraseViewer.run(channel, viewerId);
    },
    /** records a job instance's effect on a campaign; false when it was recorded before */
    effect(key: string, campaignId: string, at: number): boolean {
      return s.effect.run(key, campaignId, at).changes === 1;
    },
    prune(before: number): number {
      return s.prune.run(before).changes;
    },
  };
}
