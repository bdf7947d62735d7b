/**
 * Due work (jobs/due.ts) on PostgreSQL: the outbox rows a commit writes beside its cause, the
 * claim any server may make (`FOR UPDATE SKIP LOCKED`: servers claiming at once take different
 * jobs and never wait on each other), the lease that hands a job to another server when its
 * holder dies, and the effect keys that make a job's issues exact.
 */
import type { JobKind, JobRow, NewJob } from '../../jobs/due.js';
import type { Store } from '../types.js';
import type { Db, Sql } from './pool.js';
import { columns } from './rows.js';

type Row = Record<string, any>;

export const jobFrom = (r: Row): JobRow => ({
  id: r.id, kind: r.kind as JobKind, channel: r.channel, streamId: r.stream_id, viewerId: r.viewer_id,
  payload: JSON.parse(r.payload), runAt: r.run_at, armedAt: r.armed_at, attempts: r.attempts,
});

const COLS = 'id, kind, channel, stream_id, viewer_id, payload, run_at, armed_at, locked_until, attempts';
const ARRAYS = '$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::int[]';
const cells = (j: NewJob, claimedUntil: number) =>
  [j.id, j.kind, j.channel, j.streamId, j.viewerId, JSON.stringify(j.payload), j.runAt, j.armedAt, claimedUntil, claimedUntil ? 1 : 0];

/** creates or re-arms jobs (a cart's next add_to_cart moves it; a run holding the old instance finishes nothing) */
export async function armJobs(c: Sql, jobs: NewJob[]) {
  if (!jobs.length) return;
  await c.query(
    `INSERT INTO jobs (${COLS}) SELECT * FROM UNNEST(${ARRAYS}) ORDER BY 1
     ON CONFLICT (id) DO UPDATE SET stream_id = excluded.stream_id, payload = excluded.payload, run_at = excluded.run_at,
       armed_at = excluded.armed_at, locked_until = excluded.locked_until, attempts = excluded.attempts`,
    columns(jobs.map((j) => cells(j, 0)), 10),
  );
}

/** creates jobs claimed by the caller until `claimedUntil`, unless their ids exist; returns the ones created */
export async function createJobs(c: Sql, jobs: NewJob[], claimedUntil: number): Promise<JobRow[]> {
  if (!jobs.length) return [];
  const { rows } = await c.query(
    `INSERT INTO jobs (${COLS}) SELECT * FROM UNNEST(${ARRAYS}) ORDER BY 1 ON CONFLICT (id) DO NOTHING RETURNING *`,
    columns(jobs.map((j) => cells(j, claimedUntil)), 10),
  );
  return rows.map(jobFrom);
}

export async function removeJobs(c: Sql, ids: string[]) {
  if (ids.length) await c.query('DELETE FROM jobs WHERE id = ANY ($1::text[])', [ids]);
}

/** a job instance's effect on a campaign, recorded in the caller's transaction; false when recorded before */
export async function recordEffect(c: Sql, key: string, campaignId: string, at: number): Promise<boolean> {
  const r = await c.query('INSERT INTO job_effects (key, campaign_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [key, campaignId, at]);
  return (r.rowCount ?? 0) === 1;
}

export function jobOps(db: Db): Pick<Store, 'claimJobs' | 'finishJob' | 'finishJobs' | 'retryJob' | 'pruneJobEffects'> {
  return {
    async claimJobs(now, limit, leaseMs) {
      const { rows } = await db.query(
        `UPDATE jobs SET locked_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM jobs WHERE run_at <= $1 AND locked_until <= $1 ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, now + leaseMs, limit],
      );
      return rows.map(jobFrom).sort((a, b) => a.runAt - b.runAt);
    },
    async finishJob(id, armedAt) {
      await db.query('DELETE FROM jobs WHERE id = $1 AND armed_at = $2', [id, armedAt]);
    },
    async finishJobs(js) {
      if (!js.length) return;
      await db.query(
        'DELETE FROM jobs j USING unnest($1::text[], $2::bigint[]) AS f(id, armed_at) WHERE j.id = f.id AND j.armed_at = f.armed_at',
        [js.map((j) => j.id), js.map((j) => j.armedAt)],
      );
    },
    async retryJob(id, armedAt, runAt) {
      await db.query('UPDATE jobs SET run_at = $3, locked_until = 0 WHERE id = $1 AND armed_at = $2', [id, armedAt, runAt]);
    },
    async pruneJobEffects(before) {
      return (await db.query('DELETE FROM job_effects WHERE at < $1', [before])).rowCount ?? 0;
    },
  };
}
