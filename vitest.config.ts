import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/*/src/**/*.test.ts', 'libs/*/src/**/*.test.ts', 'deploy/test/**/*.test.ts', 'scripts/*.test.ts'],
    // End-to-end tests mount overlays and start containers; give them room.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    globalSetup: ['libs/testkit/src/vitest-global-setup.ts'],
  },
});
