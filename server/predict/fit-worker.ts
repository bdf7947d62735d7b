/**
 * The model fit's worker thread (node:worker_threads): fits never run on the event loop that
 * serves viewers. One message in (`{ id, columns, now, minBuyers }`: the purchases and buyers'
 * engagement as columns, ./wire.ts), one out (`{ id, fit: { model, predictions } }` with the
 * predictions as columns, or `{ id, error }`). Spawned by ./fitter.ts.
 */
import { parentPort } from 'node:worker_threads';
import { fitChannel } from './channel-model.js';
import { decodePurchases, encodePredictions, type PurchaseColumns } from './wire.js';

interface FitRequest {
  id: number;
  columns: PurchaseColumns;
  now: number;
  minBuyers?: number;
}

parentPort?.on('message', (req: FitRequest) => {
  try {
    const { purchases, engagement } = decodePurchases(req.columns);
    const fit = fitChannel(purchases, engagement, req.now, req.minBuyers);
    const { columns, transfer } = encodePredictions(fit.predictions);
    parentPort!.postMessage({ id: req.id, fit: { model: fit.model, predictions: columns } }, transfer);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
