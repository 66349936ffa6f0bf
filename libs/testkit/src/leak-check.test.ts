import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const fixtureConfig = 'libs/testkit/src/leak-check-fixture/vitest.config.ts';

type FileReport = {
  name: string;
  message: string;
  assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
};
type JsonReport = { testResults: FileReport[] };

/** Runs the *.fixture.ts files in a vitest of their own, with the repository's setup files: their JSON report. */
async function runFixtures(): Promise<JsonReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aoinb-leak-check-'));
  try {
    const report = path.join(dir, 'report.json');
    const run = await execa(
      'npx',
      ['vitest', 'run', '--config', fixtureConfig, '--reporter=json', `--outputFile=${report}`],
      {
        cwd: repoRoot,
        reject: false,
        all: true,
        // Long enough for the passing cases' closes on a loaded machine; each leaking case waits it out once.
        env: { AOINB_LEAK_GRACE_MS: '2000' },
      },
    );
    const text = await readFile(report, 'utf8').catch(() => {
      throw new Error(`the fixture's vitest wrote no report (exit ${run.exitCode}):\n${run.all}`);
    });
    return JSON.parse(text) as JsonReport;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One fixture file's report: its tests by title, and the failure message of one expected to fail. */
function reportOf(report: JsonReport, name: string) {
  const file = report.testResults.find((result) => result.name.endsWith(`/${name}`));
  const byTitle = new Map(file?.assertionResults.map((test) => [test.title, test]));
  const failure = (title: string): string => {
    const test = byTitle.get(title);
    expect(test?.status, title).toBe('failed');
    return test?.failureMessages.join('\n') ?? '';
  };
  return { file, byTitle, failure };
}

// Both fixture files run in one vitest (one start of it for the two tests below).
let fixtures: Promise<JsonReport> | undefined;
const fixtureReport = (): Promise<JsonReport> => (fixtures ??= runFixtures());

it('fails each test that leaves an interval, a child process or a Redis client, naming it and the leak', async () => {
  const { file, byTitle, failure } = reportOf(await fixtureReport(), 'leaks.fixture.ts');
  expect(failure('leaves an interval running')).toMatch(
    /test "leaves an interval running" left open: Timeout \+1 \(setInterval\(1000 ms\)\)/,
  );
  expect(failure('leaves a child process running')).toMatch(
    /test "leaves a child process running" left open: ProcessWrap \+1/,
  );
  expect(failure('leaves a Redis client connected')).toMatch(
    /test "leaves a Redis client connected" left open: a Redis client of 127\.0\.0\.1:\d+ \(ready\)/,
  );
  // What a test closes, the file's own clients and servers, and fetch's idle pooled socket are no leak of a test.
  expect(byTitle.get('clears its interval, ends its child and closes its Redis client')?.status).toBe('passed');
  const pooled = "uses the file's Redis client and leaves fetch's idle keep-alive socket in its pool";
  expect(byTitle.get(pooled)?.status).toBe('passed');
  // The fixture's afterAll closed what its tests left: the file's own check found nothing.
  expect(file?.message).toBe('');
});

it("counts what a fixture started through asFileFixture opens as the file's, not as a test's", async () => {
  const { file, byTitle, failure } = reportOf(await fixtureReport(), 'file-fixture.fixture.ts');
  // Started in the first test's beforeEach: its child process and client, and the client and timer its own
  // code opened after its start returned, are the file's; the next test shares them.
  expect(
    byTitle.get("starts the shared rig; what the rig's code opens, then or later, is not the test's")?.status,
  ).toBe('passed');
  expect(byTitle.get('shares the rig started by the test before')?.status).toBe('passed');
  // What a test opens itself beside the rig is still its own leak.
  expect(failure('leaves a Redis client of its own beside the rig')).toMatch(
    /left open: a Redis client of 127\.0\.0\.1:\d+ \(ready\) \(close/,
  );
  // The file's check still counts the rig: its afterAll left the server open.
  expect(file?.message).toMatch(/this test file left handles open: TCPServerWrap \+1 \(/);
});

it("is loaded by the suite's own vitest config (setupFiles)", () => {
  expect(Reflect.get(globalThis, Symbol.for('aoinb.testkit.leakCheck'))).toBe('per test and per file');
});
