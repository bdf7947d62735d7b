import { describe, expect, it } from 'vitest';
import { pooledUplift, uplift } from './uplift.js';

describe('pooledUplift', () => {
  it('is the one campaign’s uplift when there is one', () => {
    const t = { n: 412, conversions: 31 };
    const c = { n: 46, conversions: 1 };
    expect(pooledUplift([{ treated: t, control: c }])).toEqual({ ...uplift(t, c), campaigns: 1 });
  });

  it('weighs each campaign’s difference instead of adding the arms up (Simpson’s paradox)', () => {
    // each campaign lifts conversion by 5 points, but the one with the big holdout has a low base
    // rate: adding the arms up would show the offer hurting
    const strata = [
      { treated: { n: 900, conversions: 495 }, control: { n: 100, conversions: 50 } }, // 55% vs 50%
      { treated: { n: 100, conversions: 15 }, control: { n: 900, conversions: 90 } }, // 15% vs 10%
    ];
    const summed = uplift({ n: 1000, conversions: 510 }, { n: 1000, conversions: 140 });
    expect(summed.absolute).toBeGreaterThan(0.3); // the sums mistake the base rates for the effect
    const pooled = pooledUplift(strata);
    expect(pooled.absolute).toBe(0.05);
    expect(pooled.ci95![0]).toBeLessThan(0.05);
    expect(pooled.ci95![1]).toBeGreaterThan(0.05);
    expect(pooled).toMatchObject({ campaigns: 2, n: { treated: 1000, control: 1000 }, conversions: { treated: 510, control: 140 }, enoughData: true });
  });

  it('leaves out campaigns that held nobody back (or reached nobody), and says so', () => {
    const none = pooledUplift([{ treated: { n: 10, conversions: 2 }, control: { n: 0, conversions: 0 } }]);
    expect(none).toEqual({ absolute: null, ci95: null, n: { treated: 0, control: 0 }, conversions: { treated: 0, control: 0 }, campaigns: 0, enoughData: false });
    expect(pooledUplift([])).toMatchObject({ absolute: null, campaigns: 0 });
    const one = pooledUplift([
      { treated: { n: 10, conversions: 2 }, control: { n: 0, conversions: 0 } },
      { treated: { n: 20, conversions: 4 }, control: { n: 5, conversions: 0 } },
    ]);
    expect(one).toMatchObject({ campaigns: 1, absolute: 0.2, n: { treated: 20, control: 5 }, enoughData: false });
  });
});
