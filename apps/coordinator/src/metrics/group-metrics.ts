import { Gauge, type Registry } from 'prom-client';
import { farmKeys, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';
import type { CollectGuard } from '@aoinb/metrics';

/** Group states of issue 4; each is always reported (0 when none), others as they appear. */
export const groupStates = ['queued', 'running', 'succeeded', 'failed', 'partial', 'cancelled'] as const;

/**
 * Where `aoinb_groups{state}` reads its counts. The group scheduler can pass
 * its own (`CoordinatorOptions.groups`), e.g. counts it keeps in a hash; the
 * default reads the group records.
 */
export interface GroupStateSource {
  countByState(): Promise<Record<string, number>>;
}

/**
 * The default source: group ids in the zset `<prefix>:groups`, each group's
 * hash `<prefix>:group:<id>` with a `state` field (`farmNames`). With no group
 * records every state is 0.
 */
export function redisGroupStateSource(redis: RedisClient, keys: FarmKeys = farmKeys, batch = 500): GroupStateSource {
  const listKey = keys.groups;
  const recordKey = keys.group;
  return {
    async countByState() {
      const counts: Record<string, number> = {};
      const total = await redis.zcard(listKey);
      for (let start = 0; start < total; start += batch) {
        const ids = await redis.zrange(listKey, start, start + batch - 1);
        if (ids.length === 0) break;
        const pipeline = redis.pipeline();
        for (const id of ids) pipeline.hget(recordKey(id), 'state');
        for (const [, state] of (await pipeline.exec()) ?? []) {
          if (typeof state === 'string' && state) counts[state] = (counts[state] ?? 0) + 1;
        }
      }
      return counts;
    },
  };
}

export function registerGroupMetrics(registry: Registry, source: GroupStateSource, guard: CollectGuard): void {
  const gauge = new Gauge({
    name: 'aoinb_groups',
    help: 'Group builds per state (queued, running, succeeded, failed, partial, cancelled)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      await guard.run('groups', async () => {
        const counts = await source.countByState();
        this.reset();
        for (const state of groupStates) this.set({ state }, 0);
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      });
    },
  });
  for (const state of groupStates) gauge.set({ state }, 0);
}
