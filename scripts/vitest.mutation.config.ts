import { defineConfig } from 'vitest/config';

// The tests Stryker runs against each mutant (scripts/mutation.sh): only those of the
// mutated core modules. `related` would also pull in the whole-farm tests that import
// the store (minutes per mutant on 2 cores); these run against a real redis-server.
// The coordinator's result and recovery services are tested with the coordinator started
// in the test's own process (apps/coordinator/test-support/service-rig.ts), so Stryker's instrumentation sees them.
export default defineConfig({
  test: {
    include: [
      'libs/farm-protocol/src/farm-store.test.ts',
      'libs/farm-protocol/src/store-fencing.test.ts',
      'libs/farm-protocol/src/store-edges.test.ts',
      'libs/errors/src/failure-class.test.ts',
      'libs/bundle/src/arch-filter.test.ts',
      'libs/bundle/src/archive-sniff.test.ts',
      'libs/bundle/src/archive-validate.test.ts',
      'libs/bundle/src/bundle-archive.test.ts',
      'libs/bundle/src/bundle-archive-refusals.test.ts',
      'libs/bundle/src/bundle-archive-crafted.test.ts',
      'libs/bundle/src/tree-bundle.test.ts',
      'apps/coordinator/src/services/result-service.test.ts',
      'apps/coordinator/src/services/result-artifacts.test.ts',
      'apps/coordinator/src/services/result-fencing.test.ts',
      'apps/coordinator/src/services/recovery-stalled.test.ts',
      'apps/coordinator/src/services/recovery-reconcile.test.ts',
      'apps/coordinator/src/services/recovery-start.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['libs/testkit/src/leak-check.ts'],
  },
});
