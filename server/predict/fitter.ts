/**
 * Runs model fits in one worker thread (./fit-worker.ts), one at a time, so a fit of a large
 * channel never blocks the event loop. The worker starts on the first fit and stops when idle
 * for a minute. Under the TypeScript sources (the tests) the built worker in dist/ is used; with
 * no built worker at all, fits run inline and `inline` says so (logged once by the caller).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fitChannel, type ChannelModel, type ModelPurchase, type StoredPrediction } from './channel-model.js';
import { decodePredictionsInSlices, encodePurchasesInSlices, type PredictionColumns } from './wire.js';

/** a fit: the channel's model and every buyer's prediction under it */
export interface Fit {
  model: ChannelModel;
  predictions: StoredPrediction[];
}

const IDLE_MS = 60_000;

function workerFile(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'fit-worker.js');
  if (existsSync(beside)) return beside;
  // server/predict/ of the sources: the build's copy (npm run build)
  const built = path.resolve(here, '..', '..', 'dist', 'server', 'predict', 'fit-worker.js');
  return existsSync(built) ? built : null;
}

export class ModelFitter {
  private worker: Worker | null = null;
  private readonly file = workerFile();
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (f: Fit) => void; reject: (e: Error) => void }>();
  private idle: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** true when no built worker exists and fits run on the event loop */
  get inline(): boolean {
    return this.file === null;
  }

  /** fits one channel's model; fits queue one behind the other */
  fit(purchases: ModelPurchase[], now: number, minBuyers?: number, engagement: [string, number][] = []): Promise<Fit> {
    const run = this.chain.then(() => this.run(purchases, now, minBuyers, engagement));
    this.chain = run.catch(() => {});
    return run;
  }

  private run(purchases: ModelPurchase[], now: number, minBuyers: number | undefined, engagement: [string, number][]): Promise<Fit> {
    if (this.closed) return Promise.reject(new Error('the model fitter is closed'));
    if (!this.file) {
      return Promise.resolve().then(() => fitChannel(purchases, new Map(engagement), now, minBuyers));
    }
    if (this.idle) clearTimeout(this.idle);
    const w = this.start();
    const id = ++this.seq;
    return new Promise<Fit>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // as columns made a slice at a time, their buffers transferred: a big history costs the event
      // loop a few milliseconds at a time, not a stall (./wire.ts)
      encodePurchasesInSlices(purchases, engagement).then(
        ({ columns, transfer }) => w.postMessage({ id, columns, now, minBuyers }, transfer),
        (err: Error) => {
          this.waiting.delete(id);
          reject(err);
        },
      );
    }).finally(() => {
      if (!this.waiting.size) {
        this.idle = setTimeout(() => void this.close(), IDLE_MS);
        this.idle.unref();
      }
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.file!);
    w.unref();
    w.on('message', (m: { id: number; fit?: { model: Fit['model']; predictions: PredictionColumns }; error?: string }) => {
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (m.fit) {
        const model = m.fit.model;
        decodePredictionsInSlices(m.fit.predictions).then((predictions) => p.resolve({ model, predictions }), p.reject);
      }
      else p.reject(new Error(`model fit failed: ${m.error}`));
    });
    const fail = (err: Error) => {
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
      if (this.worker === w) this.worker = null;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the model fit's worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  /** terminates the worker: fits under way and queued reject */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
