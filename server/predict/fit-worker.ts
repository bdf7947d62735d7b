/**
 * The model fit's worker thread (node:worker_threads): fits never run on the event loop that
 * serves viewers. One message in (`{ id, purchases, now, minBuyers }`), one out (`{ id, fit: { model, predictions } }`
 * or `{ id, error }`). Spawned by ./fitter.ts.
 */
import { parentPort } from 'node:worker_threads';
import { fitChannel, type ModelPurchase } from './channel-model.js';

interface FitRequest {
  id: number;
  purchases: ModelPurchase[];
  /** buyers' engagement points, [viewerId, points][] */
  engagement: [string, number][];
  now: number;
  minBuyers?: number;
}

parentPort?.on('message', (req: FitRequest) => {
  try {
    parentPort!.postMessage({ id: req.id, fit: fitChannel(req.purchases, new Map(req.engagement), req.now, req.minBuyers) });
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
