import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/** FC_SCALE multiplies property-test runs (test/helpers/property.ts); their time limits grow with them */
const scale = Math.max(1, Number(process.env.FC_SCALE ?? 1) || 1);

const integration = {
  include: ['test/integration/**/*.test.ts'],
  testTimeout: 30_000 * scale,
  hookTimeout: 30_000,
};

/**
 * Test files of the PostgreSQL half at once: each file's servers hold up to 10 pooled connections
 * (a restart test two servers' worth), so 4 stay well under PostgreSQL's default 100; and half the
 * cores leave the database server its share (a 2-core machine runs one file at a time).
 */
const pgWorkers = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));

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
        // the integration suite on SQLite (test/helpers/server.ts: a file per test server)
        test: { name: 'integration', ...integration },
      },
      {
        // the same suite on PostgreSQL, a database per test server; skipped with one line when no
        // server answers (test/helpers/pg-setup.ts), failed instead in CI or with LIVETIER_REQUIRE_PG=1
        test: {
          name: 'integration-pg',
          ...integration,
          env: { LIVETIER_TEST_STORE: 'postgres' },
          globalSetup: ['test/helpers/pg-setup.ts'],
          runner: './test/helpers/pg-runner.ts',
          maxWorkers: pgWorkers,
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
