// Prints the failed tests of a vitest JSON report, briefly, as the last thing the test suite prints: CI
// keeps only the tail of the output, and a failure above the lint and format output would be cut off.
// Above that summary: the tail of the farm's logs (coordinator, workers, redis-server) of the first failed
// tests that ran a test farm (their `meta.farmLogs`, from libs/testkit/src/failed-test-logs.ts).
// Usage: node --import tsx scripts/print-test-failures.ts REPORT.json
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

interface AssertionResult {
  fullName: string;
  status: string;
  failureMessages?: string[];
  meta?: { farmLogs?: unknown };
}
interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults?: AssertionResult[];
}
interface Report {
  numTotalTests?: number;
  numFailedTests?: number;
  testResults?: FileResult[];
}

const linesPerFailure = 12;
/** Farm logs are ~80 lines per process: those of a few tests, so the summary below stays in CI's tail. */
const farmLogTests = 3;

/** The first lines of an error, without ANSI colours, each indented under its test. */
export function briefly(message: string, lines = linesPerFailure): string {
  const plain = stripVTControlCharacters(message).trimEnd();
  const all = plain.split('\n');
  const shown = all.slice(0, lines).map((line) => `    ${line}`);
  if (all.length > lines) shown.push(`    ... (${all.length - lines} more lines)`);
  return shown.join('\n');
}

/** One block per failed test (or per file that failed outside any test), or '' when nothing failed. */
export function failureSummary(report: Report, root: string): string {
  const blocks: string[] = [];
  for (const file of report.testResults ?? []) {
    if (file.status !== 'failed') continue;
    const path = relative(root, file.name);
    const failed = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    if (failed.length === 0) blocks.push(`${path}\n${briefly(file.message || 'the file failed outside any test')}`);
    for (const test of failed) {
      blocks.push(`${path} > ${test.fullName}\n${briefly((test.failureMessages ?? []).join('\n') || 'failed')}`);
    }
  }
  if (blocks.length === 0) return '';
  return [`== failed tests (${blocks.length})`, ...blocks].join('\n');
}

/** The farm log tails of the first `maxTests` failed tests that have them, then how many were left out; or ''. */
export function farmLogSection(report: Report, maxTests = farmLogTests): string {
  const logs = (report.testResults ?? [])
    .flatMap((file) => file.assertionResults ?? [])
    .filter((test) => test.status === 'failed')
    .map((test) => test.meta?.farmLogs)
    .filter((text): text is string => typeof text === 'string' && text.length > 0);
  if (logs.length === 0) return '';
  const shown = logs.slice(0, maxTests).map((text) => stripVTControlCharacters(text).trimEnd());
  const left = logs.length - shown.length;
  if (left > 0) shown.push(`== farm logs of ${left} more failed tests: in the tests' output above`);
  return shown.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const reportPath = process.argv[2];
  if (!reportPath) {
    console.error('usage: print-test-failures.ts REPORT.json');
    process.exit(2);
  }
  let report: Report;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  } catch (error) {
    console.log(`== failed tests: no vitest report at ${reportPath} (${(error as Error).message})`);
    process.exit(0);
  }
  const farmLogs = farmLogSection(report);
  if (farmLogs) console.log(farmLogs);
  const summary = failureSummary(report, process.cwd());
  if (summary) console.log(summary);
}
