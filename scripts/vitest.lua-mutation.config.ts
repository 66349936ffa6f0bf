import { defineConfig } from 'vitest/config';

// The tests scripts/lua-mutation.ts runs against each mutant of a Lua state script: the store tests of
// libs/farm-protocol, against a real redis-server (of these, only the files whose imports reach the
// mutated file run). The tester serves the mutant in place of the file through a plugin of its own
// Vitest instance (scripts/lua-mutant-runner.ts); the tracked file is never written.
// Deadlines well above a loaded machine's latency (every store test takes under 3 s), so that a mutant
// that makes a script loop forever fails its test instead of holding the run.
export default defineConfig({
  test: {
    include: ['libs/farm-protocol/src/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: Number(process.env.AOINB_TEST_WORKERS) || 2,
    setupFiles: ['libs/testkit/src/leak-check.ts'],
  },
});
