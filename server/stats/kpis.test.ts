import { describe, expect, it } from 'vitest';
import { streamKpis } from './kpis.js';

describe('streamKpis', () => {
  it('computes each number as its definition says (a scripted stream)', () => {
    // 8 viewers, 3 of them known before; 4 commented, 6 viewed a product, 3 carted, 2 bought ¥1,000 in all
    const k = streamKpis({ viewers: 8, commenters: 4, productViewers: 6, carters: 3, watchMs: 8 * 90_500, returning: 3 }, { gmv: 100_000, buyers: 2 }, 7);
    expect(k).toEqual({
      viewers: 8, gpm: 12_500_000, uvValue: 12_500, avgWatchSeconds: 91, peakConnected: 7,
      commentRate: 0.5, productClickRate: 0.75, addToCartRate: 0.375, conversion: 0.25, newViewers: 5, returningViewers: 3,
    });
  });

  it('is all zeros for a stream nobody watched', () => {
    expect(streamKpis({ viewers: 0, commenters: 0, productViewers: 0, carters: 0, watchMs: 0, returning: 0 }, { gmv: 0, buyers: 0 }, 0)).toEqual({
      viewers: 0, gpm: 0, uvValue: 0, avgWatchSeconds: 0, peakConnected: 0, commentRate: 0, productClickRate: 0, addToCartRate: 0, conversion: 0, newViewers: 0, returningViewers: 0,
    });
  });
});
