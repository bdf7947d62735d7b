// Prints vitest's JSON report as one plain line "N passed, N failed[, N skipped]".
// Exits 1 when the report is missing, a test or a test file failed, or no test ran at all,
// so an empty run is never green.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`no test report at ${file}: ${err.message}`);
  console.log('0 passed, 0 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// a file that failed to load has no failed tests of its own: count it as one failure
const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (brokenFiles) console.error(`${brokenFiles} test file(s) failed to load or run`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(passed === 0 || failed > 0 ? 1 : 0);
