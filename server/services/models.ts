/**
 * Each channel's predictive model, live (issue 15): fitted in a worker thread (predict/fitter.ts)
 * from the channel's verified purchases net of refunds, at start for channels never fitted, again
 * when a model is older than `refitMs` (default 6 hours, `--model-refit-hours`), and on demand
 * (`POST /v1/streams/:id/model/refit`). The fit is stored, so every process of a cluster reads the
 * same model; one process fits a channel at a time (a lease in the store, taken by whoever asks
 * first; a process that dies mid-fit lets its lease run out and another fits).
 *
 * Reads are cached per channel for a minute (a refit by another process is seen within that).
 * `peek` answers from the cache without waiting (the tier model's hot path) and loads on a miss.
 */
import type { Store } from '../store/types.js';
import type { ChannelModel } from '../predict/channel-model.js';
import { DEFAULT_MIN_BUYERS, predictViewer, type Predicted } from '../predict/channel-model.js';
import type { ModelFitter } from '../predict/fitter.js';

export const DEFAULT_REFIT_MS = 6 * 3_600_000;
/** a fit that takes longer than this is presumed dead (its process died): another process may take it */
export const FIT_LEASE_MS = 10 * 60_000;
/** how often the channels due a fit are looked for */
const CHECK_EVERY_MS = 60_000;
/** how long a model read from the store is trusted before it is read again */
const CACHE_MS = 60_000;
/** channels fitted per check, one after the other */
const PER_CHECK = 5;

export interface ModelsDeps {
  store: Store;
  clock: () => number;
  fitter: ModelFitter;
  /** 0: no refit on a timer (on demand and at first sight only) */
  refitMs?: number;
  minBuyers?: number;
  onError: (err: unknown, channel?: string) => void;
  /** a new model for the channel was stored by this process */
  onFitted?: (channel: string, model: ChannelModel) => void;
}

export interface ModelStatus {
  status: 'fitted' | 'insufficient_data' | 'fitting';
  fittedAt: number | null;
  buyers: number;
  repeatBuyers: number;
  bgnbd: ChannelModel['bgnbd'];
  gammaGamma: ChannelModel['gammaGamma'];
  minBuyers: number;
  /** a refit is under way (the values above are the last fit's) */
  refitting: boolean;
}

interface Cached {
  model: ChannelModel | null;
  fittingUntil: number | null;
  readAt: number;
}

export class Models {
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached>>();
  /** fits this process runs now, by channel */
  private readonly fits = new Map<string, Promise<ChannelModel | null>>();
  private lastCheck = -Infinity;
  private checking = false;
  private closed = false;

  constructor(private readonly deps: ModelsDeps) {}

  get minBuyers(): number {
    return this.deps.minBuyers ?? DEFAULT_MIN_BUYERS;
  }

  /** the channel's model as stored (cached a minute); null when never fitted */
  async get(channel: string): Promise<ChannelModel | null> {
    return (await this.read(channel)).model;
  }

  /** the cached model without waiting; a miss starts a load and answers null until it lands */
  peek(channel: string): ChannelModel | null {
    const c = this.cache.get(channel);
    if (!c || this.deps.clock() - c.readAt > CACHE_MS) void this.read(channel).catch((err) => this.deps.onError(err, channel));
    return c?.model ?? null;
  }

  /** a viewer's predicted value under the channel's model (null: no fitted model, or not a buyer) */
  async predict(channel: string, purchases: readonly { amount: number; at: number }[], currency: string): Promise<Predicted | null> {
    return predictViewer(await this.get(channel), purchases, this.deps.clock(), currency);
  }

  /** what GET /v1/streams/:id/model answers */
  async status(channel: string): Promise<ModelStatus> {
    const c = await this.read(channel, true);
    const m = c.model;
    const refitting = c.fittingUntil !== null || this.fits.has(channel);
    return {
      status: m ? m.status : refitting ? 'fitting' : 'insufficient_data',
      fittedAt: m?.fittedAt ?? null,
      buyers: m?.buyers ?? 0,
      repeatBuyers: m?.repeatBuyers ?? 0,
      bgnbd: m?.bgnbd ?? null,
      gammaGamma: m?.gammaGamma ?? null,
      minBuyers: m?.minBuyers ?? this.minBuyers,
      refitting: refitting && m !== null,
    };
  }

  /**
   * Fits the channel now unless a fit is under way (here or in another process). Resolves with
   * the new model once stored, or null when another process holds the fit.
   */
  refit(channel: string): Promise<ChannelModel | null> {
    const running = this.fits.get(channel);
    if (running) return running;
    const fit = this.fit(channel).finally(() => this.fits.delete(channel));
    this.fits.set(channel, fit);
    return fit;
  }

  /** called every second or so: once a minute, fits the channels due (never fitted, or stale) */
  async tick(now = this.deps.clock()): Promise<void> {
    if (this.checking || this.closed || now - this.lastCheck < CHECK_EVERY_MS) return;
    this.lastCheck = now;
    this.checking = true;
    try {
      const refitMs = this.deps.refitMs ?? DEFAULT_REFIT_MS;
      // with no timer, only channels never fitted are due (fittedAt < 0 never holds)
      const before = refitMs > 0 ? now - refitMs : Number.MIN_SAFE_INTEGER;
      const due = await this.deps.store.modelsDue(before, now, PER_CHECK);
      for (const channel of due) {
        if (this.closed) break;
        await this.refit(channel).catch((err) => this.deps.onError(err, channel));
      }
    } catch (err) {
      this.deps.onError(err);
    } finally {
      this.checking = false;
    }
  }

  /** stops at once: a fit under way is abandoned (its lease released, so the next start or another server fits it) */
  async close(): Promise<void> {
    this.closed = true;
    await this.deps.fitter.close();
    await Promise.allSettled(this.fits.values());
  }

  private async fit(channel: string): Promise<ChannelModel | null> {
    const { store, clock, fitter } = this.deps;
    const now = clock();
    if (!(await store.claimModelFit(channel, now, now + FIT_LEASE_MS))) return null;
    this.cache.delete(channel);
    try {
      const [purchases, engagement] = await Promise.all([store.channelPurchases(channel, now), store.buyerEngagement(channel)]);
      const { model, predictions } = await fitter.fit(purchases, now, this.minBuyers, engagement.map((e) => [e.viewerId, e.engagement]));
      await store.saveModel(channel, model, predictions);
      this.cache.set(channel, { model, fittingUntil: null, readAt: clock() });
      this.deps.onFitted?.(channel, model);
      return model;
    } catch (err) {
      await store.releaseModelFit(channel).catch(() => {});
      if (this.closed) return null; // abandoned by close(): not a failure
      throw err;
    }
  }

  private read(channel: string, fresh = false): Promise<Cached> {
    const c = this.cache.get(channel);
    if (c && !fresh && this.deps.clock() - c.readAt <= CACHE_MS) return Promise.resolve(c);
    let p = this.loading.get(channel);
    if (!p) {
      p = this.deps.store
        .getModel(channel, this.deps.clock())
        .then((r) => {
          const got: Cached = { ...r, readAt: this.deps.clock() };
          this.cache.set(channel, got);
          return got;
        })
        .finally(() => this.loading.delete(channel));
      this.loading.set(channel, p);
    }
    return p;
  }
}
