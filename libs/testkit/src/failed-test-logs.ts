import { afterAll, beforeEach } from 'vitest';
import { farmLogTail, keepFarmLogs } from './farm-log-report.ts';
import { watchFarmLogs, type FarmLogs } from './farm-logs.ts';

/**
 * vitest setupFiles entry (see vitest.config.ts): the farm logs of a failed test. A test farm
 * (`FarmHarness`, the CLI's `CliFarm`) keeps its processes' output in memory (farm-logs.ts), as its temp
 * folder goes with `stop()`. When a test fails (its body, a hook or the leak check), the tail of each log
 * of every farm that ran during the test (one its beforeAll started included) goes
 *
 * - to stderr at once, under `== farm logs of failed test: <file> > <test>`;
 * - into the test's `meta.farmLogs` in vitest's JSON report, which scripts/print-test-failures.ts prints at
 *   the end of scripts/test.sh's output, above the failure summary, where CI keeps it;
 * - with `AOINB_TEST_KEEP_LOGS=DIR`, whole into `DIR/<test file>/<test name>/<process>.log`.
 *
 * A farm that a failing beforeAll or afterAll ran (no test to name) is reported at the file's end, as
 * `outside any test`, on stderr and in DIR. A test that passes prints nothing.
 */
const farms = watchFarmLogs();
const reported = new Set<FarmLogs>();

async function report(testFile: string, testName: string, shown: FarmLogs[]): Promise<string> {
  let text = farmLogTail(shown, `${testFile} > ${testName}`);
  if (!text) return '';
  for (const farm of shown) reported.add(farm);
  const keepDir = process.env.AOINB_TEST_KEEP_LOGS;
  if (keepDir) text += `== farm logs kept whole in ${await keepFarmLogs(keepDir, testFile, testName, shown)}\n`;
  process.stderr.write(text);
  return text;
}

beforeEach((context) => {
  const since = Date.now();
  context.onTestFailed(async () => {
    const shown = [...farms].filter((farm) => farm.activeSince(since));
    const text = await report(context.task.file.name, context.task.fullTestName, shown);
    if (text) Object.assign(context.task.meta, { farmLogs: text });
  });
});

interface SuiteLike {
  type: string;
  result?: { errors?: unknown[] };
  tasks?: SuiteLike[];
}

/** A suite of the file (or the file) has an error of its own: a beforeAll or afterAll threw. */
function suiteFailed(suite: SuiteLike): boolean {
  if ((suite.result?.errors?.length ?? 0) > 0) return true;
  return (suite.tasks ?? []).some((task) => task.type === 'suite' && suiteFailed(task));
}

// vitest reads an afterAll's first parameter as the fixtures it uses (an empty pattern: none); the file is second.
afterAll(async ({}, file) => {
  if (suiteFailed(file)) {
    const left = [...farms].filter((farm) => !reported.has(farm));
    await report(file.file.name, 'outside any test', left);
  }
  farms.clear();
});
