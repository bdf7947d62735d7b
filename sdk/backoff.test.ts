import { describe, expect, it } from 'vitest';
import { backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS } from './backoff.js';

describe('backoff', () => {
  it('grows exponentially between half and all of each step', () => {
    for (let n = 0; n < 6; n++) {
      const step = BACKOFF_BASE_MS * 2 ** n;
      expect(backoff(n, () => 0)).toBe(step / 2);
      expect(backoff(n, () => 1)).toBe(step);
      expect(backoff(n, () => 0.5)).toBe((step * 3) / 4);
    }
  });

  it('never waits longer than 30 s, however many attempts', () => {
    expect(BACKOFF_CAP_MS).toBe(30_000);
    for (const n of [6, 7, 10, 50, 1000, Infinity]) {
      expect(backoff(n, () => 1)).toBe(BACKOFF_CAP_MS);
      expect(backoff(n, () => 0)).toBe(BACKOFF_CAP_MS / 2);
    }
  });

  it('is jittered: different random draws give different waits', () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoff(4)));
    expect(waits.size).toBeGreaterThan(10);
    for (const w of waits) {
      expect(w).toBeGreaterThanOrEqual(4000);
      expect(w).toBeLessThanOrEqual(8000);
      expect(Number.isInteger(w)).toBe(true);
    }
  });

  it('treats a negative or fractional attempt as the nearest sensible one', () => {
    expect(backoff(-3, () => 1)).toBe(BACKOFF_BASE_MS);
    expect(backoff(1.9, () => 1)).toBe(BACKOFF_BASE_MS * 2);
  });
});
