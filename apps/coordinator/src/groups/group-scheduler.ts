import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { farmPrefix, groupFlowQueueName, runWithRestart } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { advanceGroup } from './group-advance.ts';
import { followBuildEvents, type BuildChange } from './group-events.ts';
import { GroupKicker } from './group-kicker.ts';

export interface GroupScheduler {
  /** Asks for a group to be moved on soon (coalesced: at most one pending pass per group). */
  kick(groupId: string): void;
  close(): Promise<void>;
}

/**
 * Which groups a batch of build changes concerns: a build that ended may
 * release or skip its dependents; the first build that starts turns its group
 * `running`. Task -> group is cached (a task joins a group before any build).
 */
function changeRouter(ctx: CoordinatorContext, kicker: GroupKicker): (changes: BuildChange[]) => Promise<void> {
  const groupOfTask = new Map<string, string | null>();
  const startedGroups = new Set<string>();
  return async (changes) => {
    if (groupOfTask.size > 50_000) groupOfTask.clear();
    if (startedGroups.size > 10_000) startedGroups.clear();
    for (const change of changes) {
      if (!groupOfTask.has(change.taskId))
        groupOfTask.set(change.taskId, (await ctx.groups.store.groupOfTask(change.taskId)) ?? null);
      const groupId = groupOfTask.get(change.taskId);
      if (!groupId) continue;
      if (change.ended || (change.started && !startedGroups.has(groupId))) kicker.kick(groupId);
      if (change.started) startedGroups.add(groupId);
    }
  };
}

/**
 * Drives group builds. Three inputs lead to the same idempotent step,
 * `advanceGroup`: the farm's event stream (a member build changed state: its
 * dependents may be released or skipped now), the round's parent job in the
 * `group-flow` queue (BullMQ hands it over when every child job ended), and a
 * reconcile pass over every active group at start and every `intervalMs`
 * (whatever a crash or a lost event left behind).
 */
export async function startGroupScheduler(ctx: CoordinatorContext, intervalMs = 5000): Promise<GroupScheduler> {
  const kicker = new GroupKicker((groupId) => advanceGroup(ctx, groupId), ctx.logger);
  const reconcileAll = async (): Promise<void> => {
    for (const groupId of await ctx.groups.store.activeGroupIds()) kicker.kick(groupId);
  };
  const onChanges = changeRouter(ctx, kicker);
  const loops = new AbortController();
  const follow = runWithRestart('group event follower', ctx.logger, loops.signal, (signal) =>
    followBuildEvents(ctx.redis, ctx.connection, ctx.logger, signal, reconcileAll, onChanges),
  );
  const reconcile = runWithRestart('group reconcile', ctx.logger, loops.signal, reconcileAll, intervalMs);
  const parents = new Worker(
    groupFlowQueueName,
    async (job: Job<{ groupId: string; round: number }>) => {
      await advanceGroup(ctx, job.data.groupId);
      return { groupId: job.data.groupId, round: job.data.round };
    },
    { connection: ctx.connection as ConnectionOptions, prefix: farmPrefix, concurrency: 4, lockDuration: 60_000 },
  );
  parents.on('error', (error) => ctx.logger.warn({ err: error.message }, 'group-flow worker error'));
  return {
    kick: (groupId) => kicker.kick(groupId),
    async close() {
      loops.abort();
      await Promise.all([follow, reconcile]);
      await parents.close();
      await kicker.idle(10_000);
    },
  };
}
