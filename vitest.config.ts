import { defineConfig } from 'vitest/config';

/** FC_SCALE multiplies property-test runs (test/helpers/property.ts); their time limits grow with them */
const scale = Math.max(1, Number(process.env.FC_SCALE ?? 1) || 1);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['server/**/*.test.ts', 'sdk/**/*.test.ts', 'widget/**/*.test.ts'],
          environment: 'node',
          testTimeout: 5_000 * scale,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000 * scale,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
