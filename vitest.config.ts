import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './scripts/vitest-slow-first.ts';

// Test files run in parallel: most of their time is waiting (containers, apt, processes starting), not
// CPU, so one more file than cores keeps the machine busy without starving the builds in containers;
// AOINB_TEST_WORKERS overrides it (1 runs the files one after another). See docs/contributing.md "Tests".
const workers = Number(process.env.AOINB_TEST_WORKERS) || availableParallelism() + 1;

export default defineConfig({
  test: {
    include: [
      'apps/*/src/**/*.test.ts',
      'libs/*/src/**/*.test.ts',
      // The test helpers' own tests, beside them (each package's test-support/, outside src/).
      'apps/*/test-support/**/*.test.ts',
      'libs/*/test-support/**/*.test.ts',
      'deploy/test/**/*.test.ts',
      'scripts/*.test.ts',
    ],
    // End-to-end tests mount overlays and start containers, beside other files: deadlines that catch a
    // hang, far above a loaded machine's latency (a test that proves promptness checks it itself).
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: workers,
    // The longest files first, so the suite is not left waiting on one started last.
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['libs/testkit/src/vitest-global-setup.ts'],
    // After each test file: no socket, child process or timer it opened is left open. A failed test that ran a
    // test farm: the tail of the farm's logs (and, with AOINB_TEST_KEEP_LOGS=DIR, the whole logs in DIR).
    setupFiles: ['libs/testkit/src/leak-check.ts', 'libs/testkit/src/failed-test-logs.ts'],
  },
});
