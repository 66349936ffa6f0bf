import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { farmTokens } from './farm-options.ts';

/**
 * The farm logs of a failed test (libs/testkit/src/failed-test-logs.ts), through a real vitest run of
 * ./failed-test-logs-fixture/ (a farm with a coordinator and a worker; tests that fail on purpose): on stderr,
 * in the JSON report's meta and so in scripts/print-test-failures.ts's output, and whole in
 * AOINB_TEST_KEEP_LOGS.
 */
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const fixtureConfig = 'libs/farm-harness/src/failed-test-logs-fixture/vitest.config.ts';
const fixtureFile = 'libs/farm-harness/src/failed-test-logs-fixture/farm.fixture.ts';
const header = `== farm logs of failed test: ${fixtureFile} > `;

type Assertion = { fullName: string; status: string; meta?: { farmLogs?: string } };
type JsonReport = { testResults: Array<{ assertionResults: Assertion[] }> };

let dir = '';
let run: { stderr: string; report: JsonReport; reportPath: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-failed-test-logs-'));
  const reportPath = path.join(dir, 'report.json');
  const child = await execa(
    'npx',
    ['vitest', 'run', '--config', fixtureConfig, '--reporter=json', `--outputFile=${reportPath}`],
    { cwd: repoRoot, reject: false, env: { AOINB_TEST_KEEP_LOGS: path.join(dir, 'kept') } },
  );
  const text = await readFile(reportPath, 'utf8').catch(() => {
    throw new Error(`the fixture's vitest wrote no report (exit ${child.exitCode}):\n${child.stderr}`);
  });
  run = { stderr: child.stderr, report: JSON.parse(text) as JsonReport, reportPath };
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The block printed for `test`: from its header to its end line. */
function block(output: string, test: string): string {
  const start = output.indexOf(`${header}${test}\n`);
  expect(start, `no farm logs printed for "${test}"`).toBeGreaterThanOrEqual(0);
  const end = output.indexOf(`== end of farm logs: ${fixtureFile} > ${test}\n`, start);
  return output.slice(start, end);
}

const tests = (): Map<string, Assertion> =>
  new Map(run.report.testResults.flatMap((file) => file.assertionResults).map((test) => [test.fullName, test]));

it("prints the tail of each of the farm's logs for a failed test, secrets blanked, and none for a passing one", () => {
  const shown = block(run.stderr, 'a farm for the file > fails on purpose');
  expect(shown).toMatch(/\n--- coordinator \((last 80 of \d+|\d+) lines\)\n[^]*coordinator listening/);
  expect(shown).toMatch(/\n--- w1 \(/);
  expect(shown).toMatch(/\n--- redis-server[ :]/);
  expect(shown).toContain('admin token [redacted]; header Authorization: Bearer [redacted]');
  for (const token of [...Object.values(farmTokens), 's3cr3t-bearer']) expect(run.stderr).not.toContain(token);
  // A farm its afterEach stopped before the failure was reported (onTestFailed runs after afterEach).
  expect(
    block(run.stderr, 'a farm for each test, stopped by its afterEach > fails on purpose after its farm is stopped'),
  ).toContain('the per-test farm ran');
  expect(block(run.stderr, 'outside any test')).toContain('the beforeAll farm ran');
  expect(run.stderr).not.toContain(`${header}a farm for the file > passes`);
  expect(tests().get('a farm for the file passes')).toMatchObject({ status: 'passed', meta: {} });
});

it('copies the whole logs to AOINB_TEST_KEEP_LOGS/<test file>/<test name>/', async () => {
  const kept = path.join(dir, 'kept', fixtureFile, 'a farm for the file _ fails on purpose');
  expect((await readdir(kept)).sort()).toEqual(['coordinator.log', 'probe.log', 'redis-server.log', 'w1.log']);
  const coordinator = await readFile(path.join(kept, 'coordinator.log'), 'utf8');
  expect(coordinator).toContain('coordinator listening');
  expect(await readFile(path.join(kept, 'probe.log'), 'utf8')).not.toContain(farmTokens.admin);
  expect(run.stderr).toContain(`== farm logs kept whole in ${kept}\n`);
  const outside = path.join(dir, 'kept', fixtureFile, 'outside any test', 'marker.log');
  expect(await readFile(outside, 'utf8')).toBe('the beforeAll farm ran\n');
});

it("puts the tail in the JSON report, which scripts/test.sh's summary prints above the failed tests", async () => {
  const failed = tests().get('a farm for the file fails on purpose');
  expect(failed?.meta?.farmLogs).toContain(block(run.stderr, 'a farm for the file > fails on purpose'));
  const printed = await execa(process.execPath, ['--import', 'tsx', 'scripts/print-test-failures.ts', run.reportPath], {
    cwd: repoRoot,
  });
  const farmLogsAt = printed.stdout.indexOf(`${header}a farm for the file > fails on purpose`);
  const summaryAt = printed.stdout.indexOf('== failed tests (');
  expect(farmLogsAt).toBeGreaterThanOrEqual(0);
  expect(summaryAt).toBeGreaterThan(farmLogsAt);
  expect(printed.stdout.slice(summaryAt)).toContain('farm.fixture.ts > a farm for the file fails on purpose');
});
