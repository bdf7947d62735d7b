import { describe, expect, it } from 'vitest';
import { computeTier, emptyEngagement, formatMoney, nextTierChangeAt, type ViewerProfile } from './model.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23);
const profile = (purchases: [number, number][], engagement = emptyEngagement()): ViewerProfile => ({
  purchases: purchases.map(([amount, daysAgo], i) => ({ orderId: `o${i}`, amount, at: NOW - daysAgo * DAY })),
  engagement,
});

describe('computeTier (default rules)', () => {
  it('high: 2 orders and ¥1,000 within 90 days', () => {
    const r = computeTier(profile([[60_000, 10], [40_000, 80]]), NOW);
    expect(r.tier).toBe('high');
    expect(r.reasons).toEqual(['2 verified orders, ¥1,000 in 90 days (high needs 2+ orders and ¥1,000+)']);
  });

  it('not high with ¥999.99, or with one big order, or when an order is older than 90 days', () => {
    expect(computeTier(profile([[50_000, 10], [49_999, 20]]), NOW).tier).toBe('mid');
    expect(computeTier(profile([[500_000, 10]]), NOW).tier).toBe('mid');
    expect(computeTier(profile([[60_000, 10], [60_000, 91]]), NOW).tier).toBe('mid');
  });

  it('mid: one order within 180 days, with what it takes to reach high', () => {
    const r = computeTier(profile([[12_345, 170]]), NOW);
    expect(r).toMatchObject({ tier: 'mid', reasons: ['1 verified order, ¥123.45 in 180 days', '2 more order(s) in 90 days to reach high'] });
    const spend = computeTier(profile([[1000, 1], [1000, 2]]), NOW);
    expect(spend.reasons[1]).toBe('¥980 more spend in 90 days to reach high');
  });

  it('potential: nothing in 180 days, with the engagement named', () => {
    const r = computeTier(profile([[99_999, 181]], { watchMs: 12 * 60_000, comments: 3, likes: 1, productViews: 0, addToCarts: 2 }), NOW);
    expect(r).toMatchObject({
      tier: 'potential',
      reasons: ['no verified purchase in 180 days', 'watched 12 minutes, 3 comments, 1 like, 2 add-to-carts'],
    });
    expect(computeTier(profile([]), NOW).reasons).toEqual(['no verified purchase in 180 days']);
  });

  it('a fully refunded order (net 0) does not count', () => {
    expect(computeTier(profile([[0, 1], [0, 2]]), NOW).tier).toBe('potential');
  });

  it('more verified spend never lowers the tier', () => {
    const base: [number, number][] = [[30_000, 5]];
    const tiers = ['potential', 'mid', 'high'];
    let prev = tiers.indexOf(computeTier(profile(base), NOW).tier);
    for (let i = 1; i < 6; i++) {
      base.push([30_000, i * 7]);
      const t = tiers.indexOf(computeTier(profile(base), NOW).tier);
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
    }
    expect(prev).toBe(2);
  });
});

describe('nextTierChangeAt', () => {
  it('is when the earliest purchase leaves a window', () => {
    expect(nextTierChangeAt(profile([[60_000, 10]]), NOW)).toBe(NOW - 10 * DAY + 90 * DAY + 1);
    expect(nextTierChangeAt(profile([]), NOW)).toBeNull();
  });
});

describe('formatMoney', () => {
  it('formats minor units with the currency symbol', () => {
    expect(formatMoney(179_700)).toBe('¥1,797');
    expect(formatMoney(12_345, 'USD')).toBe('$123.45');
  });

  it('whole units and cents stay distinct however the calls interleave (formatters are reused)', () => {
    expect([100, 150, 200, 150].map((m) => formatMoney(m, 'USD'))).toEqual(['$1', '$1.50', '$2', '$1.50']);
  });

  it('a code Intl does not accept falls back to the plain amount and code, every time', () => {
    expect(formatMoney(150, 'X1')).toBe('1.50 X1');
    expect(formatMoney(200, 'X1')).toBe('2.00 X1');
  });
});
