/**
 * Group commit. Jobs from many connections are queued; one store transaction (`commit`) takes
 * every job queued so far, and the next one starts on the next turn of the event loop after the
 * previous one ended (no timer). A job's promise resolves only after its transaction committed
 * and `afterCommit` ran, so callers ack only what is durable, and the in-memory state they read
 * next already includes it. One batch is in flight at a time: jobs commit in submission order.
 */
interface Pending<J, R> {
  job: J;
  /** its place in submission order (flushAll waits for the jobs queued before it was called) */
  seq: number;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface WriterStats {
  batches: number;
  jobs: number;
  maxBatch: number;
}

/** told of each batch after its commit (metrics): its size, the commit's duration, whether it committed */
export type WriterObserver = (batch: { jobs: number; seconds: number; ok: boolean }) => void;

export class GroupCommitWriter<J, R> {
  private queue: Pending<J, R>[] = [];
  private scheduled = false;
  private inflight: Promise<void> | null = null;
  private closed = false;
  /** the seq of the last job submitted, and of the last job whose batch has ended (committed or failed) */
  private submitted = 0;
  private ended = 0;
  readonly stats: WriterStats = { batches: 0, jobs: 0, maxBatch: 0 };
  /** set (or replace) at any time, e.g. by app.ts once the engine is built; an observer that throws is ignored */
  observer: WriterObserver | null;

  private readonly afterCommit: (jobs: J[], results: R[]) => void | Promise<void>;
  private readonly maxBatch: number;
  private readonly onError: (err: unknown) => void;

  constructor(
    /** commits the jobs in one transaction; one result per job, in order */
    private readonly commit: (jobs: J[]) => Promise<R[]>,
    opts: {
      /** runs after the commit, with the same jobs and results (side effects that must not be rolled back) */
      afterCommit?: (jobs: J[], results: R[]) => void | Promise<void>;
      maxBatch?: number;
      /** an afterCommit that failed (the jobs stay committed and their callers get their results) */
      onError?: (err: unknown) => void;
      observer?: WriterObserver;
    } = {},
  ) {
    this.observer = opts.observer ?? null;
    this.afterCommit = opts.afterCommit ?? (() => {});
    this.maxBatch = opts.maxBatch ?? 2000;
    this.onError = opts.onError ?? (() => {});
  }

  /** jobs queued and not yet taken by a batch */
  get pending(): number {
    return this.queue.length;
  }

  submit(job: J): Promise<R> {
    if (this.closed) return Promise.reject(new Error('writer closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, seq: ++this.submitted, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled || this.inflight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Commits one batch (up to `maxBatch` jobs) of what is queued, after the batch in flight. */
  flush(): Promise<void> {
    if (this.inflight) return this.inflight.then(() => this.flush());
    if (!this.queue.length) return Promise.resolve();
    const batch = this.queue.splice(0, this.maxBatch);
    this.inflight = this.run(batch).finally(() => {
      this.inflight = null;
      if (this.queue.length) this.schedule();
    });
    return this.inflight;
  }

  private async run(batch: Pending<J, R>[]): Promise<void> {
    const jobs = batch.map((p) => p.job);
    let results: R[];
    const started = performance.now();
    try {
      results = await this.commit(jobs);
    } catch (err) {
      this.observe(batch.length, started, false);
      this.ended = batch.at(-1)!.seq;
      for (const p of batch) p.reject(err);
      return;
    }
    this.ended = batch.at(-1)!.seq;
    this.observe(batch.length, started, true);
    this.stats.batches++;
    this.stats.jobs += batch.length;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
    try {
      await this.afterCommit(jobs, results);
    } catch (err) {
      this.onError(err);
    } finally {
      batch.forEach((p, i) => p.resolve(results[i]!));
    }
  }

  private observe(jobs: number, started: number, ok: boolean) {
    if (!this.observer) return;
    try {
      this.observer({ jobs, seconds: (performance.now() - started) / 1000, ok });
    } catch {
      // metrics never fail a commit
    }
  }

  /** Commits everything queued, batch after batch, until the queue is empty (jobs submitted meanwhile included). */
  async flushAll(): Promise<void> {
    while (this.queue.length || this.inflight) await this.flush();
  }

  /**
   * Commits the jobs queued when it was called and resolves once their batches ended. Jobs
   * submitted meanwhile go in the same batches when they fit, but are not waited for: a shutdown
   * drains what it found rather than chasing clients that keep sending (flushAll would).
   */
  async flushQueued(): Promise<void> {
    const target = this.submitted;
    while (this.ended < target && (this.queue.length || this.inflight)) await this.flush();
  }

  /** Commits what is queued and refuses new jobs. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushAll();
  }
}
