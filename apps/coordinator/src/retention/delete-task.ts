import { rm } from 'node:fs/promises';
import { AoinbError } from '@aoinb/errors';
import {
  buildJobId,
  RetentionStore,
  type DeletionOutcome,
  type TaskDeletion,
  type TaskState,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext, Principal } from '../context.ts';

/** The states a task may be deleted in: never while a build of it is queued or running. */
export const deletableTaskStates: TaskState[] = ['created', 'succeeded', 'failed', 'cancelled'];

/** Everything a task keeps on disk: bundle, debs of every attempt, archived logs. */
export async function removeTaskFiles(ctx: CoordinatorContext, taskId: string): Promise<void> {
  await rm(ctx.layout.taskDir(taskId), { recursive: true, force: true });
  await rm(ctx.layout.logDir(taskId), { recursive: true, force: true });
}

/**
 * Deletes a task: its records in one guarded script (refused unless the rule
 * still holds), then its BullMQ jobs and files. Read again when a build moved
 * on to a new run meanwhile.
 */
export async function removeTask(
  ctx: CoordinatorContext,
  taskId: string,
  rule: Omit<TaskDeletion, 'taskId' | 'builds'>,
): Promise<DeletionOutcome> {
  const store = new RetentionStore(ctx.redis, ctx.keys);
  for (let tries = 1; ; tries++) {
    const task = await ctx.store.getTask(taskId);
    if (!task) return { result: 'refused', state: '', groupId: '' };
    const builds = await ctx.store.getBuilds(taskId, task.archs);
    const runs = builds.map((b) => ({ arch: b.arch, run: b.run }));
    const outcome = await store.deleteTask({ ...rule, taskId, builds: runs });
    if (outcome.result === 'changed' && tries < 5) continue;
    if (outcome.result === 'deleted') {
      for (const b of builds)
        for (let run = 1; run <= b.run; run++) {
          const jobId = run === b.run ? b.jobId : buildJobId(taskId, b.arch, run);
          await ctx.dispatcher.removeIfIdle(b.arch, jobId);
        }
      await removeTaskFiles(ctx, taskId);
      await store.donePending('task', taskId);
    }
    return outcome;
  }
}

/**
 * An admin's `DELETE /task/:id` of a finished task: records, logs, bundle and debs go (the repositories keep theirs).
 */
export async function deleteFinishedTask(ctx: CoordinatorContext, taskId: string, by: Principal): Promise<void> {
  if (by.role !== 'admin')
    throw new AoinbError(
      'FORBIDDEN',
      `token ${by.name} (${by.role}) may not delete task ${taskId}: deleting a task that was built needs the ` +
        `admin role`,
    );
  const outcome = await removeTask(ctx, taskId, { groupId: '', states: ['succeeded', 'failed', 'cancelled'] });
  if (outcome.result === 'deleted') {
    ctx.logger.info({ taskId, state: outcome.state, by: by.name }, 'task deleted');
    return;
  }
  if (outcome.state === '') throw new AoinbError('NOT_FOUND', `task ${taskId} does not exist`);
  if (outcome.groupId)
    throw new AoinbError(
      'CONFLICT',
      `task ${taskId} belongs to group ${outcome.groupId}: it goes with its group (DELETE /group/${outcome.groupId})`,
    );
  throw new AoinbError(
    'CONFLICT',
    `task ${taskId} is ${outcome.state}: only a finished task can be deleted; ` +
      `cancel it first (POST /task/${taskId}/cancel)`,
  );
}
