import { Gauge, type Registry } from 'prom-client';
import type { FarmKeys, RedisClient } from '@aoinb/farm-protocol';
import type { CollectGuard } from '@aoinb/metrics';
import { assessPlacement } from '../placement/placement-assessment.ts';
import { unplaceableReasons } from '../placement/placement-verdict.ts';

/**
 * `aoinb_builds_unplaceable{arch, reason}`: queued builds no live builder can take (docs/placement.md),
 * read at scrape time from the same assessment the placement loop makes.
 */
export function registerPlacementMetrics(
  registry: Registry,
  redis: RedisClient,
  archs: string[],
  guard: CollectGuard,
  keys: FarmKeys,
): void {
  new Gauge({
    name: 'aoinb_builds_unplaceable',
    help:
      'Queued builds no live builder can take, per arch and reason: the need no builder meets (memory, cores, ' +
      'memory_per_core, disk, network: none allows network builds), combination (no one builder meets them all) ' +
      'or no_builder (none of the arch online)',
    labelNames: ['arch', 'reason'],
    registers: [registry],
    async collect() {
      await guard.run('placement', async () => {
        const placements = await assessPlacement(redis, keys);
        this.reset();
        for (const arch of archs) for (const reason of unplaceableReasons) this.set({ arch, reason }, 0);
        for (const p of placements)
          if (p.verdict.kind === 'unplaceable') this.inc({ arch: p.arch, reason: p.verdict.label });
      });
    },
  });
}
