import { describe, expect, it } from 'vitest';
import { TokenBucket, WindowCounter } from './limits.js';

describe('TokenBucket', () => {
  it('grants a burst, then the rate, never more than asked', () => {
    const b = new TokenBucket(10, 50, 0);
    expect(b.take(30, 0)).toBe(30);
    expect(b.take(30, 0)).toBe(20);
    expect(b.take(5, 0)).toBe(0);
    expect(b.take(100, 1000)).toBe(10); // one second refills 10
    expect(b.take(100, 100_000)).toBe(50); // never above the burst
    expect(b.take(3, 200_000)).toBe(3);
  });
  it('is off with a rate of 0', () => {
    const b = new TokenBucket(0, 0, 0);
    expect(b.take(1e6, 0)).toBe(1e6);
  });
});

describe('WindowCounter', () => {
  it('counts per key and forgets old windows', () => {
    const c = new WindowCounter(2, 60_000);
    expect([c.hit('a', 0), c.hit('a', 1), c.hit('a', 2), c.hit('b', 3)]).toEqual([true, true, false, true]);
    expect(c.hit('a', 60_000)).toBe(true);
  });
  it('is off with a max of 0', () => {
    const c = new WindowCounter(0, 1000);
    for (let i = 0; i < 100; i++) expect(c.hit('a', 0)).toBe(true);
  });
});
