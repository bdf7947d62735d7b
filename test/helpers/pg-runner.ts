/**
 * The test runner of the `integration-pg` project: vitest's own, except when the global setup
 * (pg-setup.ts) found no PostgreSQL server and none is required. Then each test file is collected
 * inside one skipped suite: every test of it is reported as skipped, and none of its hooks runs,
 * so no `beforeAll` tries to create a database on the missing server.
 */
import { TestRunner, describe } from 'vitest';

type ImportSource = Parameters<TestRunner['importFile']>[1];

export default class PostgresHalfRunner extends TestRunner {
  override importFile(filepath: string, source: ImportSource): unknown {
    if (source !== 'collect' || this.injectValue('pgAvailable') !== false) return super.importFile(filepath, source);
    // the file's top-level describe/it/hooks register inside this suite while its factory imports the file
    describe.skip('PostgreSQL unreachable', async () => {
      await super.importFile(filepath, source);
    });
    return undefined;
  }
}
