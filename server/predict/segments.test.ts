import { describe, expect, it } from 'vitest';
import { findSegments, MIN_SEGMENT_BUYERS } from './segments.js';
import type { ModelPurchase } from './channel-model.js';

const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

function shop(): ModelPurchase[] {
  const ps: ModelPurchase[] = [];
  for (let b = 0; b < 20; b++) for (let w = 0; w < 20; w++) ps.push({ viewerId: `vip${b}`, amount: 30_000, at: NOW - (w * 7 + 1) * DAY });
  for (let b = 0; b < 80; b++) ps.push({ viewerId: `once${b}`, amount: 1_000, at: NOW - 190 * DAY });
  return ps;
}

describe('segments', () => {
  it('finds the frequent big spenders apart from the one-time buyers, with shares and traits', () => {
    const s = findSegments(shop(), new Map(), NOW)!;
    expect(s).toMatchObject({ buyers: 100, k: 2, fittedAt: NOW });
    const [once, vip] = s.segments;
    expect(once).toMatchObject({ id: 0, buyers: 80, share: 0.8, recencyDays: 190 });
    expect(vip).toMatchObject({ id: 1, buyers: 20, share: 0.2, recencyDays: 1 });
    expect(vip!.gmvShare).toBeGreaterThan(0.95);
    expect(vip!.ordersPerMonth).toBeCloseTo(20 / 12, 2);
    expect(vip!.spendRatio).toBeGreaterThan(4);
    expect(once!.gmvShare + vip!.gmvShare).toBeCloseTo(1, 3);
    // seeded: the same data, the same segments
    expect(findSegments(shop(), new Map(), NOW)).toEqual(s);
  });
  it(`needs ${MIN_SEGMENT_BUYERS} buyers in the last 365 days; refunded and later orders do not count`, () => {
    const few: ModelPurchase[] = Array.from({ length: 29 }, (_, i) => ({ viewerId: `v${i}`, amount: 100, at: NOW - i * DAY }));
    expect(findSegments(few, new Map(), NOW)).toBeNull();
    few.push({ viewerId: 'refunded', amount: 0, at: NOW }, { viewerId: 'later', amount: 100, at: NOW + DAY }, { viewerId: 'old', amount: 100, at: NOW - 400 * DAY });
    expect(findSegments(few, new Map(), NOW)).toBeNull();
  });
});
