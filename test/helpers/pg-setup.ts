/**
 * Global setup of the `integration-pg` project (the integration suite on PostgreSQL): one quick
 * connection to the server the test databases are made on.
 *
 * - reachable: the files run; each test server creates and drops a database of its own, named
 *   with this run's id, and the teardown drops whatever a crashed file left of this run.
 * - unreachable on a developer's machine: one line says the half was skipped and how to run it,
 *   and the project's runner (pg-runner.ts) collects every file as skipped.
 * - unreachable in CI (`CI` set) or with `LIVETIER_REQUIRE_PG=1`: the run fails, so a CI machine
 *   that lost its database never passes on the SQLite half alone.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { PG_ADMIN_LABEL, dropRunDatabases, pgUnreachable } from './pg.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** false: no PostgreSQL server answered and none is required, the PostgreSQL half is skipped */
    pgAvailable: boolean;
    /** this run's id, part of every test database's name */
    pgRun: string;
  }
}

const required = () => !!process.env.CI || process.env.LIVETIER_REQUIRE_PG === '1';

export default async function setup(project: TestProject) {
  const why = await pgUnreachable();
  if (why) {
    const where = `cannot connect to ${PG_ADMIN_LABEL} (${why})`;
    if (required()) {
      throw new Error(`PostgreSQL half cannot run: ${where}; it is required here (CI or LIVETIER_REQUIRE_PG=1)`);
    }
    console.log(`PostgreSQL half skipped: ${where}; start PostgreSQL or set LIVETIER_TEST_PG`);
    project.provide('pgAvailable', false);
    project.provide('pgRun', '');
    return;
  }
  const run = randomBytes(3).toString('hex');
  project.provide('pgAvailable', true);
  project.provide('pgRun', run);
  return async () => {
    try {
      const left = await dropRunDatabases(run);
      if (left.length) console.warn(`dropped ${left.length} test database(s) left behind: ${left.join(', ')}`);
    } catch (err) {
      // the server went away during the run: its tests have failed already and say so
      console.warn(`could not drop this run's test databases: ${(err as Error).message}`);
    }
  };
}
