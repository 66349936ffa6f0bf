import { DelayedError, WaitingChildrenError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { groupFlowQueueName, groupParentJobId, isFinalGroupState, queueConnection } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { advanceGroup } from './group-advance.ts';
import { addRoundParent } from './group-jobs.ts';
import { groupLifecycle } from './group-lifecycle.ts';
import { restoreRoundJobs } from './group-restore.ts';

interface RoundData {
  groupId: string;
  round: number;
}

/** How long a round's parent waits to look again when no child is pending but members are not done. */
const recheckMs = 15_000;

/**
 * The step of a round's parent job (BullMQ's step-jobs pattern). BullMQ hands
 * it over when the round starts and whenever none of its children is pending.
 * It moves the group on (releasing members adds children to it), makes sure
 * every live member has its job, and moves itself to `waiting-children`; with
 * nothing pending it completes once the group ended or a later round started.
 * A round whose live builds have no pending job (one ended without a report,
 * which the build services' recovery fails) is looked at again shortly.
 */
async function stepRound(ctx: CoordinatorContext, job: Job<RoundData>, token: string | undefined): Promise<object> {
  const { groupId, round } = job.data;
  await advanceGroup(ctx, groupId);
  const group = await ctx.groups.store.getGroup(groupId);
  const current = group !== undefined && group.round === round && !isFinalGroupState(group.state);
  if (current) await restoreRoundJobs(ctx, groupId);
  if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
  if (!current) return { groupId, round, state: group?.state ?? 'gone' };
  await job.moveToDelayed(Date.now() + recheckMs, token);
  throw new DelayedError();
}

/**
 * After a restart, the safety net: every group not final gets its round's
 * parent (added again if a crash came between the group's record and its
 * add; run again if it failed) and one step, which catches what the
 * coordinator missed while it was down.
 */
async function reconcileGroups(ctx: CoordinatorContext): Promise<void> {
  for (const groupId of await ctx.groups.store.activeGroupIds()) {
    const group = await ctx.groups.store.getGroup(groupId);
    if (!group) continue;
    const parent = await ctx.groups.parents.getJob(groupParentJobId(group.id, group.round));
    if (!parent) await addRoundParent(ctx, group);
    else if ((await parent.getState()) === 'failed') await parent.retry('failed');
    await advanceGroup(ctx, groupId).catch((error: Error) =>
      ctx.logger.warn({ groupId, err: error.message }, 'group step at start failed; its parent job tries again'),
    );
  }
}

export interface GroupFlow {
  close(): Promise<void>;
}

/**
 * Starts group builds in this coordinator: registers their hook into the
 * build services (a member's end moves its group on), runs the round parents'
 * worker, and the restart safety net once.
 */
export function startGroupFlow(ctx: CoordinatorContext): GroupFlow {
  const unregister = ctx.lifecycle.register(groupLifecycle(ctx));
  const worker = new Worker<RoundData>(groupFlowQueueName, (job, token) => stepRound(ctx, job, token), {
    connection: queueConnection(ctx.connection) as ConnectionOptions,
    prefix: ctx.keys.prefix,
    concurrency: 4,
    lockDuration: 60_000,
  });
  worker.on('error', (error) => ctx.logger.warn({ err: error.message }, 'group-flow worker error'));
  worker.on('failed', (job, error) =>
    ctx.logger.warn({ jobId: job?.id, err: error.message }, 'a group round step failed; BullMQ tries again'),
  );
  const net = reconcileGroups(ctx).catch((error: Error) =>
    ctx.logger.warn({ err: error.message }, 'group reconcile at start failed'),
  );
  return {
    async close() {
      await net;
      await worker.close();
      unregister();
    },
  };
}
