import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './scripts/vitest-slow-first.ts';

// Test files run in parallel: most of their time is waiting (containers, apt, processes starting), not
// CPU, so twice the cores (at least 4) keeps the machine busy; AOINB_TEST_WORKERS overrides it
// (1 runs the files one after another). See docs/contributing.md "Tests".
const workers = Number(process.env.AOINB_TEST_WORKERS) || Math.max(4, 2 * availableParallelism());

export default defineConfig({
  test: {
    include: ['apps/*/src/**/*.test.ts', 'libs/*/src/**/*.test.ts', 'deploy/test/**/*.test.ts', 'scripts/*.test.ts'],
    // End-to-end tests mount overlays and start containers; give them room.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: workers,
    // The longest files first, so the suite is not left waiting on one started last.
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['libs/testkit/src/vitest-global-setup.ts'],
    // After each test file: no socket, child process or timer it opened is left open.
    setupFiles: ['libs/testkit/src/leak-check.ts'],
  },
});
