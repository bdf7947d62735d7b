/**
 * Group commit. Jobs from many connections are queued; one SQLite transaction commits every job
 * queued so far, and the next transaction starts on the next turn of the event loop after the
 * previous one ends (no timer). A job's promise resolves only after its transaction committed,
 * so callers ack only what is durable.
 */
import type { DB } from './sqlite/db.js';

interface Pending<J, R> {
  job: J;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface WriterStats {
  batches: number;
  jobs: number;
  maxBatch: number;
}

export class GroupCommitWriter<J, R> {
  private queue: Pending<J, R>[] = [];
  private scheduled = false;
  private closed = false;
  readonly stats: WriterStats = { batches: 0, jobs: 0, maxBatch: 0 };

  constructor(
    private readonly db: DB,
    /** runs inside the transaction; returns one result per job, in order */
    private readonly apply: (jobs: J[]) => R[],
    /** runs after the commit, with the same jobs and results (side effects that must not be rolled back) */
    private readonly afterCommit: (jobs: J[], results: R[]) => void = () => {},
    private readonly maxBatch = 2000,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  submit(job: J): Promise<R> {
    if (this.closed) return Promise.reject(new Error('writer closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
      if (this.queue.length) this.schedule();
    });
  }

  /** Commits one batch (up to `maxBatch` jobs) of what is queued, synchronously. */
  flush(): void {
    if (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      const jobs = batch.map((p) => p.job);
      let results: R[];
      try {
        results = this.db.transaction(() => this.apply(jobs))();
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
      this.stats.batches++;
      this.stats.jobs += batch.length;
      this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
      try {
        this.afterCommit(jobs, results);
      } finally {
        batch.forEach((p, i) => p.resolve(results[i]!));
      }
    }
  }

  /** Commits everything queued so far, batch after batch, synchronously. */
  flushAll(): void {
    while (this.queue.length) this.flush();
  }

  /** Commits what is queued and refuses new jobs. */
  close(): void {
    this.closed = true;
    this.flushAll();
  }
}
