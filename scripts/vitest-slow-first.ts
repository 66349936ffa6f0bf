import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (seconds in CI with the files run one after
 * another, 2026-12-01), longest first. With files running in parallel the
 * suite ends when its longest file does, so these start first and the short
 * files fill the other workers around them. A fresh CI clone has no vitest
 * results cache (which would order by last duration), hence the list; a file
 * not in it just starts after these, in vitest's own order. Only the order
 * depends on it: a stale list makes the suite slower, never wrong.
 */
export const slowFiles: readonly string[] = [
  'apps/coordinator/src/real-packages/real-packages.test.ts', // 151
  'apps/coordinator/src/faults/coordinator-kill.test.ts', // ~140 (nine coordinator restarts; 2026-12-02, load 6)
  'apps/coordinator/src/two-coordinators.test.ts', // 95
  'libs/buildroot/src/layers/baseos.test.ts', // 66
  'apps/coordinator/src/group-e2e.test.ts', // 57
  'apps/cli/src/cli.test.ts', // 53
  'apps/coordinator/src/faults/redis-kill.test.ts', // ~70 (2026-12-02, loaded)
  // group.test.ts (49) is now these two, each starting a farm of its own.
  'apps/coordinator/src/group-dependencies.test.ts',
  'apps/coordinator/src/group-modes-failover.test.ts',
  'apps/cli/src/farm-up.test.ts', // 44
  'apps/cli/src/farm-commands.test.ts', // 41
  'libs/buildroot/src/pipeline/warm-builds.test.ts', // 41
  'apps/coordinator/src/dashboard/dashboard-browser.test.ts', // 40
  'apps/coordinator/src/farm-builds.test.ts', // the longest part of farm.test.ts (36)
  'apps/cli/src/farm-containment.test.ts', // 35
  'apps/cli/src/cli-help.test.ts', // 32
  'apps/worker/src/network-placement.test.ts', // 31
  'apps/cli/src/farm-network.test.ts', // 31
  'libs/farm-harness/src/failed-test-logs.test.ts', // ~31 (a vitest of its own with a farm; 2026-12-02)
  'apps/coordinator/src/services/recovery.test.ts', // 30
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = slowFiles.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return i === -1 ? slowFiles.length : i;
    };
    // Array.prototype.sort is stable: files outside the list keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
