import { defineConfig } from 'vitest/config';

// The leak check over the fixtures beside this file, run by leak-check.test.ts (which also checks that the
// repository's config loads the check). No global setup: they need no base OS.
export default defineConfig({
  root: new URL('../../../../', import.meta.url).pathname,
  test: {
    include: ['libs/testkit/src/leak-check-fixture/*.fixture.ts'],
    setupFiles: ['libs/testkit/src/leak-check.ts'],
    pool: 'forks',
  },
});
