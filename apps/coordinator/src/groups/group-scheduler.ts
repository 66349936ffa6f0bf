import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { closeRedis, connectRedis, farmPrefix, groupFlowQueueName, runWithRestart } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { advanceGroup } from './group-advance.ts';
import { eventStreamEnd, waitBuildEvents, type BuildChange } from './group-events.ts';

export interface GroupScheduler {
  /** Asks for a group to be moved on soon (coalesced: at most one pending pass per group). */
  kick(groupId: string): void;
  close(): Promise<void>;
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
  const pending = new Map<string, { again: boolean }>();
  const groupOfTask = new Map<string, string | null>();
  const kick = (groupId: string): void => {
    const current = pending.get(groupId);
    if (current) {
      current.again = true;
      return;
    }
    const state = { again: false };
    pending.set(groupId, state);
    void (async () => {
      try {
        do {
          state.again = false;
          await advanceGroup(ctx, groupId).catch((error: Error) => ctx.logger.warn({ groupId, err: error.message }, 'advancing a group failed; the reconcile loop tries again'));
        } while (state.again);
      } finally {
        pending.delete(groupId);
      }
    })();
  };

  // A build that ended may release or skip its dependents; the first build that starts turns the group `running`.
  const startedGroups = new Set<string>();
  const onChanges = async (changes: BuildChange[]): Promise<void> => {
    if (groupOfTask.size > 50_000) groupOfTask.clear();
    if (startedGroups.size > 10_000) startedGroups.clear();
    for (const change of changes) {
      if (!groupOfTask.has(change.taskId)) groupOfTask.set(change.taskId, (await ctx.groups.store.groupOfTask(change.taskId)) ?? null);
      const groupId = groupOfTask.get(change.taskId);
      if (!groupId) continue;
      if (change.ended || (change.started && !startedGroups.has(groupId))) kick(groupId);
      if (change.started) startedGroups.add(groupId);
    }
  };

  const reconcileAll = async (): Promise<void> => {
    for (const groupId of await ctx.groups.store.activeGroupIds()) kick(groupId);
  };

  const loops = new AbortController();
  const follow = runWithRestart('group event follower', ctx.logger, loops.signal, async (signal) => {
    const blocking = connectRedis(ctx.connection, ctx.logger, 'group-events');
    const stop = (): void => blocking.disconnect();
    signal.addEventListener('abort', stop, { once: true });
    try {
      let cursor = await eventStreamEnd(ctx.redis);
      await reconcileAll();
      while (!signal.aborted) {
        const batch = await waitBuildEvents(blocking, cursor, 5000);
        cursor = batch.cursor;
        await onChanges(batch.changes);
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await closeRedis(blocking);
    }
  });
  const reconcile = runWithRestart('group reconcile', ctx.logger, loops.signal, reconcileAll, intervalMs);

  const parents = new Worker(groupFlowQueueName, async (job: Job<{ groupId: string; round: number }>) => {
    await advanceGroup(ctx, job.data.groupId);
    return { groupId: job.data.groupId, round: job.data.round };
  }, { connection: ctx.connection as ConnectionOptions, prefix: farmPrefix, concurrency: 4, lockDuration: 60_000 });
  parents.on('error', (error) => ctx.logger.warn({ err: error.message }, 'group-flow worker error'));

  return {
    kick,
    async close() {
      loops.abort();
      await Promise.all([follow, reconcile]);
      await parents.close();
      const deadline = Date.now() + 10_000;
      while (pending.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}
