import { describe, expect, it } from 'vitest';
import { decodePredictions, decodePredictionsInSlices, decodePurchases, encodePredictions, encodePurchases, encodePurchasesInSlices } from './wire.js';
import type { ModelPurchase } from './channel-model.js';

describe('the fit messages as columns', () => {
  it('carry purchases, SKUs (none, empty, any text) and engagement unchanged', () => {
    const purchases: ModelPurchase[] = [
      { viewerId: 'ann', amount: 1999, at: 1_700_000_000_000 },
      { viewerId: 'bob:x@shop', amount: 0.5, at: 1_700_000_086_400, skus: ['TEA-01', 'CUP-02'] },
      { viewerId: 'ann', amount: 300, at: 1_700_000_172_800, skus: [] },
      { viewerId: 'cy', amount: 42, at: 1_700_000_259_200, skus: ['TEA-01', 'odd,"sku"\u0000\n'] },
    ];
    const engagement: [string, number][] = [['ann', 3.5], ['watcher', 1]];
    const { columns, transfer } = encodePurchases(purchases, engagement);
    expect(transfer.length).toBe(6);
    const back = decodePurchases(structuredClone(columns));
    expect(back.purchases).toEqual(purchases);
    expect([...back.engagement]).toEqual([['ann', 3.5], ['watcher', 1]]);
    expect(decodePurchases(encodePurchases([], []).columns)).toEqual({ purchases: [], engagement: new Map() });
  });

  it('are the same made a slice at a time', async () => {
    const purchases: ModelPurchase[] = Array.from({ length: 1003 }, (_, i) => ({
      viewerId: `v${i % 97}`, amount: i, at: i * 1000, ...(i % 3 === 0 ? { skus: [`S${i % 7}`] } : i % 3 === 1 ? { skus: [] } : {}),
    }));
    const whole = encodePurchases(purchases, [['v1', 2]]).columns;
    const sliced = (await encodePurchasesInSlices(purchases, [['v1', 2]], 100)).columns;
    expect(sliced).toEqual(whole);
    expect(decodePurchases(sliced).purchases).toEqual(purchases);
    const preds = Array.from({ length: 257 }, (_, i) => ({ viewerId: `v${i}`, pAlive: i / 257, clv365d: i * 10 }));
    expect(await decodePredictionsInSlices(encodePredictions(preds).columns, 50)).toEqual(preds);
  });

  it('carry predictions unchanged', () => {
    const preds = [{ viewerId: 'ann', pAlive: 0.9731, clv365d: 12_345 }, { viewerId: 'bob', pAlive: 1, clv365d: 0 }];
    expect(decodePredictions(structuredClone(encodePredictions(preds).columns))).toEqual(preds);
    expect(decodePredictions(encodePredictions([]).columns)).toEqual([]);
  });
});
