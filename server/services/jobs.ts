/**
 * Runs due work from the database (jobs/due.ts): the jobs a commit created and claimed for this
 * process run at once (`run`, called by whoever committed them), and every second `tick` claims
 * what is due from any process: carts left long enough, and jobs whose holder died before it
 * finished them (their lease ran out). A job that throws stays claimed and runs again when its
 * lease ends; after JOB_MAX_ATTEMPTS it is dropped and logged.
 *
 * A finished job is deleted through a group commit (many jobs, one transaction: a flash sale's
 * purchases each finish one). Until that commit the job stays claimed; if the process dies first,
 * it runs again when its lease ends and its effect keys make the second run issue nothing.
 */
import type { JobRow, Store } from '../store/types.js';
import { EFFECT_RETENTION_MS, JOB_LEASE_MS, JOB_MAX_ATTEMPTS } from '../jobs/due.js';
import type { Clock } from './hooks.js';
import { GroupCommitWriter } from '../ingest/writer.js';

/** jobs claimed per statement; a tick claims again while a full batch came back, up to TICK_ROUNDS times */
const CLAIM_BATCH = 50;
const TICK_ROUNDS = 10;
const PRUNE_EVERY_MS = 3_600_000;

export interface JobsDeps {
  store: Store;
  clock: Clock;
  /** does the job's work; returns when to run it again, or null when done */
  run: (job: JobRow, now: number) => Promise<number | null>;
  onError?: (err: unknown, job?: JobRow) => void;
}

type Finished = { id: string; armedAt: number };

export class Jobs {
  private prunedAt = 0;
  private readonly finishes: GroupCommitWriter<Finished, void>;
  private closed = false;

  constructor(private readonly deps: JobsDeps) {
    this.finishes = new GroupCommitWriter<Finished, void>(
      async (js) => {
        await deps.store.finishJobs(js);
        return js.map(() => undefined);
      },
      { maxBatch: 1000 },
    );
  }

  /** deletes a finished job (with others finishing meanwhile); after close, on its own */
  private finish(id: string, armedAt: number): Promise<void> {
    return this.closed ? this.deps.store.finishJob(id, armedAt) : this.finishes.submit({ id, armedAt });
  }

  /** commits the finishes queued (at shutdown, before the store closes) */
  async close(): Promise<void> {
    this.closed = true;
    await this.finishes.close();
  }

  /** Runs a job this process holds the claim of; never rejects (a failure is retried after the lease). */
  async run(job: JobRow, now = this.deps.clock()): Promise<void> {
    const { store, onError } = this.deps;
    try {
      const again = await this.deps.run(job, now);
      if (again === null) await this.finish(job.id, job.armedAt);
      else await store.retryJob(job.id, job.armedAt, again);
    } catch (err) {
      onError?.(err, job);
      if (job.attempts >= JOB_MAX_ATTEMPTS) await this.finish(job.id, job.armedAt).catch(() => {});
    }
  }

  /** Claims and runs what is due at `now` (a timer in app.ts; tests call it with their clock). */
  async tick(now = this.deps.clock()): Promise<number> {
    let n = 0;
    for (let round = 0; round < TICK_ROUNDS; round++) {
      const due = await this.deps.store.claimJobs(now, CLAIM_BATCH, JOB_LEASE_MS);
      for (const job of due) await this.run(job, now);
      n += due.length;
      if (due.length < CLAIM_BATCH) break;
    }
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await this.deps.store.pruneJobEffects(now - EFFECT_RETENTION_MS);
    }
    return n;
  }
}
