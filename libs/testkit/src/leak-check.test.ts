import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const fixtureConfig = 'libs/testkit/src/leak-check-fixture/vitest.config.ts';

type JsonReport = {
  testResults: Array<{
    message: string;
    assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
  }>;
};

/** Runs leaks.fixture.ts in a vitest of its own, with the repository's setup files, and reads its JSON report. */
async function runFixture(): Promise<JsonReport> {
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
        env: { AOINB_LEAK_GRACE_MS: '300' },
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

it('fails each test that leaves an interval, a child process or a Redis client, naming it and the leak', async () => {
  const [file] = (await runFixture()).testResults;
  const byTitle = new Map(file?.assertionResults.map((test) => [test.title, test]));
  const failure = (title: string): string => {
    const test = byTitle.get(title);
    expect(test?.status, title).toBe('failed');
    return test?.failureMessages.join('\n') ?? '';
  };
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

it("is loaded by the suite's own vitest config (setupFiles)", () => {
  expect(Reflect.get(globalThis, Symbol.for('aoinb.testkit.leakCheck'))).toBe('per test and per file');
});
