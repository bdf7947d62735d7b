/**
 * The model fit's worker thread (node:worker_threads): fits never run on the event loop that
 * serves viewers. One message in (`{ id, purchases, now, minBuyers }`), one out (`{ id, fit: { model, predictions } }`
 * or `{ id, error }`). Spawned by ./fitter.ts.
 */
import { parentPort } from 'node:worker_threads';
import { fitChannelModel, mineCrossSell, predictAll, type ModelPurchase } from './channel-model.js';

interface FitRequest {
  id: number;
  purchases: ModelPurchase[];
  now: number;
  minBuyers?: number;
}

parentPort?.on('message', (req: FitRequest) => {
  try {
    const model = { ...fitChannelModel(req.purchases, req.now, { minBuyers: req.minBuyers }), crossSell: mineCrossSell(req.purchases, req.now) };
    parentPort!.postMessage({ id: req.id, fit: { model, predictions: predictAll(model, req.purchases, req.now) } });
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
