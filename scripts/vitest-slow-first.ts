import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (seconds in a whole CI run, three files at once on
 * two cores, 2026-12-03 at 3c46be3), longest first. With files running in
 * parallel the suite ends when its longest file does, so these start first and
 * the short files fill the other workers around them. A fresh CI clone has no
 * vitest results cache (which would order by last duration), hence the list; a
 * file not in it just starts after these, in vitest's own order. Only the order
 * depends on it: a stale list makes the suite slower, never wrong.
 */
export const slowFiles: readonly string[] = [
  'apps/coordinator/src/real-packages/real-packages.test.ts', // 247
  'apps/coordinator/src/faults/coordinator-kill.test.ts', // 125 (nine coordinator restarts)
  'apps/cli/src/cli.test.ts', // 94
  'libs/buildroot/src/layers/baseos.test.ts', // 72
  'apps/coordinator/src/group-e2e.test.ts', // 70
  'libs/buildroot/src/pipeline/warm-builds.test.ts', // 59
  'apps/coordinator/src/faults/redis-kill.test.ts', // 45
  'apps/coordinator/src/dashboard/dashboard-browser.test.ts', // 39
  'apps/cli/src/farm-commands.test.ts', // 38
  'apps/cli/src/farm-up.test.ts', // 34
  'apps/cli/src/compiled-cli.test.ts', // 34
  'apps/coordinator/src/group-modes-failover.test.ts', // 32
  'apps/coordinator/src/services/recovery.test.ts', // 31
  'libs/buildroot/src/pipeline/run-build.test.ts', // 29
  'libs/buildroot/src/pipeline/repository-builds.test.ts', // 27
  'libs/buildroot/src/network/build-network.test.ts', // 23
  'libs/testkit/src/autobuild4-baseos.test.ts', // 23
  'apps/cli/src/cli-help.test.ts', // 23
  'libs/buildroot/src/pipeline/containment.test.ts', // 22
  'apps/coordinator/src/farm-failover.test.ts', // 21
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
