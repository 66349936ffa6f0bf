import { Gauge, type Registry } from 'prom-client';
import { farmKeys, parseActiveBuildMember, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';
import type { CollectGuard } from '@aoinb/metrics';
import type { Dispatcher } from '../services/dispatcher.ts';

/**
 * BullMQ job states reported per arch queue. `completed` and `failed` are the
 * jobs BullMQ still keeps (`keep_completed_jobs`, `keep_failed_jobs`), not totals.
 */
export const jobStates = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** Build states that are live (in `{aoinb}:builds:active`). */
export const activeBuildStates = ['queued', 'running'] as const;

/** `aoinb_queue_jobs{arch,state}`: BullMQ's job counts of every arch queue, read at scrape time. */
export function registerQueueMetrics(registry: Registry, dispatcher: Dispatcher, guard: CollectGuard): void {
  new Gauge({
    name: 'aoinb_queue_jobs',
    help:
      'Jobs in the build-<arch> BullMQ queue by state (waiting + prioritized = backlog; ' +
      'completed/failed = jobs still retained)',
    labelNames: ['arch', 'state'],
    registers: [registry],
    async collect() {
      await guard.run('queues', async () => {
        const counts = await Promise.all(
          dispatcher.archs.map(
            async (arch) => [arch, await dispatcher.queue(arch).getJobCounts(...jobStates)] as const,
          ),
        );
        for (const [arch, byState] of counts) {
          for (const state of jobStates) this.set({ arch, state }, byState[state] ?? 0);
        }
      });
    },
  });
}

/** Counts live builds per arch and state from the active set and each build's `state` field. */
export async function countActiveBuilds(
  redis: RedisClient,
  archs: string[],
  keys: FarmKeys = farmKeys,
): Promise<Map<string, Record<string, number>>> {
  const counts = new Map<string, Record<string, number>>();
  for (const arch of archs) counts.set(arch, Object.fromEntries(activeBuildStates.map((s) => [s, 0])));
  const members = (await redis.smembers(keys.activeBuilds)).flatMap((m) => parseActiveBuildMember(m) ?? []);
  if (members.length === 0) return counts;
  const pipeline = redis.pipeline();
  for (const m of members) pipeline.hget(keys.build(m.taskId, m.arch), 'state');
  const replies = (await pipeline.exec()) ?? [];
  members.forEach((m, i) => {
    const state = replies[i]?.[1];
    if (typeof state !== 'string') return;
    const perArch = counts.get(m.arch) ?? {};
    perArch[state] = (perArch[state] ?? 0) + 1;
    counts.set(m.arch, perArch);
  });
  return counts;
}

/**
 * `aoinb_active_builds{arch,state}`: queued and running builds as the farm's records say (what `aoinb status` shows).
 */
export function registerActiveBuildMetrics(
  registry: Registry,
  redis: RedisClient,
  archs: string[],
  guard: CollectGuard,
  keys: FarmKeys = farmKeys,
): void {
  new Gauge({
    name: 'aoinb_active_builds',
    help: 'Builds that are queued or running, per arch, from the build records',
    labelNames: ['arch', 'state'],
    registers: [registry],
    async collect() {
      await guard.run('active_builds', async () => {
        const counts = await countActiveBuilds(redis, archs, keys);
        this.reset();
        for (const [arch, byState] of counts)
          for (const [state, n] of Object.entries(byState)) this.set({ arch, state }, n);
      });
    },
  });
}
