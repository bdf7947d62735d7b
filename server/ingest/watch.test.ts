import { describe, expect, it } from 'vitest';
import { creditWatch, HEARTBEAT_CAP_MS } from './watch.js';

describe('creditWatch', () => {
  it('credits the smallest of the claim, the time that passed and the cap', () => {
    expect(creditWatch(10_000, 0, 10_000)).toBe(10_000);
    expect(creditWatch(600_000, 0, 1_000)).toBe(1_000);
    expect(creditWatch(4_000, 0, 10_000)).toBe(4_000);
    expect(creditWatch(600_000, 0, 3_600_000)).toBe(HEARTBEAT_CAP_MS);
  });
  it('never credits negative time (clock went back, or a zero claim)', () => {
    expect(creditWatch(10_000, 5_000, 1_000)).toBe(0);
    expect(creditWatch(0, 0, 10_000)).toBe(0);
  });
});
