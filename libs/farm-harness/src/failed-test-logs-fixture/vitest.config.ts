import { defineConfig } from 'vitest/config';

// The farm log report over the fixture beside this file, run by ../failed-test-logs.test.ts. No global
// setup (no base OS needed) and no leak check: only the setup file under test.
export default defineConfig({
  root: new URL('../../../../', import.meta.url).pathname,
  test: {
    include: ['libs/farm-harness/src/failed-test-logs-fixture/*.fixture.ts'],
    setupFiles: ['libs/testkit/src/failed-test-logs.ts'],
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
