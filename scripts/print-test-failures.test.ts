import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { briefly, failureSummary, farmLogSection } from './print-test-failures.ts';

const root = '/repo';
const report = {
  testResults: [
    {
      name: '/repo/libs/a/src/ok.test.ts',
      status: 'passed',
      assertionResults: [{ fullName: 'fine', status: 'passed' }],
    },
    {
      name: '/repo/libs/a/src/bad.test.ts',
      status: 'failed',
      assertionResults: [
        { fullName: 'fine too', status: 'passed' },
        {
          fullName: 'suite > breaks',
          status: 'failed',
          failureMessages: ['\u001b[31mAssertionError: 1 !== 2\u001b[39m'],
        },
      ],
    },
    { name: '/repo/apps/b/src/setup.test.ts', status: 'failed', message: 'hook timed out', assertionResults: [] },
  ],
};

describe('failureSummary', () => {
  it('names each failed test by file and full name, with its error uncoloured', () => {
    const summary = failureSummary(report, root);
    expect(summary.split('\n')).toEqual([
      '== failed tests (2)',
      'libs/a/src/bad.test.ts > suite > breaks',
      '    AssertionError: 1 !== 2',
      'apps/b/src/setup.test.ts',
      '    hook timed out',
    ]);
  });

  it('is empty when nothing failed', () => {
    expect(failureSummary({ testResults: [report.testResults[0]!] }, root)).toBe('');
  });

  it('cuts a long error to its first lines and says how many were left out', () => {
    const message = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const lines = briefly(message, 3).split('\n');
    expect(lines).toEqual(['    line 0', '    line 1', '    line 2', '    ... (17 more lines)']);
  });
});

describe('farmLogSection', () => {
  const failedWithLogs = (n: number) => ({
    fullName: `farm test ${n}`,
    status: 'failed',
    meta: { farmLogs: `== farm logs of failed test: f.test.ts > farm test ${n}\n--- coordinator (1 line)\nup\n` },
  });
  const withLogs = {
    testResults: [
      ...report.testResults,
      {
        name: '/repo/apps/c/src/farm.test.ts',
        status: 'failed',
        assertionResults: [
          { ...failedWithLogs(0), status: 'passed' },
          failedWithLogs(1),
          failedWithLogs(2),
          failedWithLogs(3),
          failedWithLogs(4),
        ],
      },
    ],
  };

  it('prints the farm logs of the first failed tests that have them, and how many it left out', () => {
    const lines = farmLogSection(withLogs, 2).split('\n');
    expect(lines).toEqual([
      '== farm logs of failed test: f.test.ts > farm test 1',
      '--- coordinator (1 line)',
      'up',
      '== farm logs of failed test: f.test.ts > farm test 2',
      '--- coordinator (1 line)',
      'up',
      "== farm logs of 2 more failed tests: in the tests' output above",
    ]);
  });

  it('is empty when no failed test ran a farm', () => {
    expect(farmLogSection(report)).toBe('');
  });
});

describe('print-test-failures.ts as a command', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the summary of a report file, and says so when there is no report', () => {
    dir = mkdtempSync(join(tmpdir(), 'aoinb-failures-'));
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(report));
    const run = (path: string) =>
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/print-test-failures.ts', path], {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
      });
    expect(run(file)).toContain('suite > breaks');
    expect(run(join(dir, 'missing.json'))).toMatch(/^== failed tests: no vitest report at .*missing\.json/);
  });
});
