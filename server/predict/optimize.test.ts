import { describe, expect, it } from 'vitest';
import { lbfgs, nelderMead } from './optimize.js';

/** Rosenbrock's banana in n dimensions: minimum 0 at (1, ..., 1) */
const rosenbrock = (x: Float64Array, g?: Float64Array): number => {
  let f = 0;
  if (g) g.fill(0);
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    f += 100 * a * a + b * b;
    if (g) {
      g[i] += -400 * x[i] * a - 2 * b;
      g[i + 1] += 200 * a;
    }
  }
  return f;
};

describe('L-BFGS', () => {
  it('finds the Rosenbrock minimum from the classic start', () => {
    const res = lbfgs((x, g) => rosenbrock(x, g), [-1.2, 1, -1.2, 1]);
    expect(res.converged).toBe(true);
    expect(res.reason).toBe('gradient');
    for (const v of res.x) expect(v).toBeCloseTo(1, 6);
    expect(res.f).toBeLessThan(1e-12);
  });

  it('backs off from regions where the objective is not finite', () => {
    // -log(x) + x: minimum at 1, NaN for x < 0 (a long first step lands there)
    const res = lbfgs(
      (x, g) => {
        g[0] = -1 / x[0] + 1;
        return -Math.log(x[0]) + x[0];
      },
      [20],
    );
    expect(res.converged).toBe(true);
    expect(res.x[0]).toBeCloseTo(1, 7);
  });

  it('refuses a non-finite start', () => {
    expect(() => lbfgs((x, g) => ((g[0] = 0), NaN), [0])).toThrow(RangeError);
  });

  it('reports the iteration cap', () => {
    const res = lbfgs((x, g) => rosenbrock(x, g), [-1.2, 1], { maxIterations: 3 });
    expect(res.converged).toBe(false);
    expect(res.reason).toBe('max-iterations');
    expect(res.iterations).toBe(3);
  });
});

describe('Nelder–Mead', () => {
  it('finds the Rosenbrock minimum', () => {
    const res = nelderMead((x) => rosenbrock(x), [-1.2, 1]);
    expect(res.converged).toBe(true);
    expect(res.x[0]).toBeCloseTo(1, 5);
    expect(res.x[1]).toBeCloseTo(1, 5);
  });

  it('treats NaN as +Infinity', () => {
    const res = nelderMead((x) => (x[0] < 0 ? NaN : (x[0] - 2) ** 2 + (x[1] + 1) ** 2), [0.05, 0]);
    expect(res.x[0]).toBeCloseTo(2, 5);
    expect(res.x[1]).toBeCloseTo(-1, 5);
  });
});
