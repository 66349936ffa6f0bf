import { rm } from 'node:fs/promises';
import { AoinbError } from '@aoinb/errors';
import {
  finalGroupStates,
  groupParentJobId,
  RetentionStore,
  sequenceJobId,
  type GroupRecord,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { deletableTaskStates, removeTask } from './delete-task.ts';

/**
 * The rest of a group deletion once its records are gone: each member task
 * (records, jobs, files), the group's parent and sequence jobs, its folder and
 * repository. Safe to repeat (the pruner finishes what a dead coordinator left).
 * Returns the member tasks that could not go (they stay listed as pending).
 */
export async function finishGroupDeletion(
  ctx: CoordinatorContext,
  groupId: string,
  taskIds: string[],
  group?: Pick<GroupRecord, 'round' | 'archs'>,
): Promise<string[]> {
  const left: string[] = [];
  for (const taskId of taskIds) {
    const outcome = await removeTask(ctx, taskId, { groupId, states: deletableTaskStates });
    // '' = already gone (a repeat); a task of another group (or none) was never this group's to delete.
    if (outcome.result !== 'deleted' && outcome.state !== '' && outcome.groupId === groupId) left.push(taskId);
  }
  for (let round = 1; round <= (group?.round ?? 0); round++) {
    await ctx.groups.parents.remove(groupParentJobId(groupId, round)).catch(() => 0);
    for (const arch of group?.archs ?? []) await ctx.dispatcher.removeIfIdle(arch, sequenceJobId(groupId, arch, round));
  }
  await ctx.groups.repo.forget(groupId);
  await rm(ctx.layout.groupDir(groupId), { recursive: true, force: true });
  if (left.length === 0) await new RetentionStore(ctx.redis, ctx.keys).donePending('group', groupId);
  else ctx.logger.warn({ groupId, tasks: left }, 'group deleted; some member tasks could not be deleted yet');
  return left;
}

/**
 * Deletes a finished group: records in one guarded script (refused while the
 * group or a member runs, or once a retry started a round), then the rest. `finishedBefore`:
 * only if it finished before then (the pruner's age rule).
 */
export async function removeGroup(
  ctx: CoordinatorContext,
  groupId: string,
  finishedBefore?: Date,
): Promise<{ result: 'deleted' | 'refused' | 'running'; state: string }> {
  const group = await ctx.groups.store.getGroup(groupId);
  if (!group) return { result: 'refused', state: '' };
  const store = new RetentionStore(ctx.redis, ctx.keys);
  const outcome = await store.deleteGroup(groupId, group.taskIds, [...finalGroupStates], finishedBefore);
  if (outcome.result === 'changed') return { result: 'running', state: outcome.state };
  if (outcome.result === 'refused') return { result: 'refused', state: outcome.state };
  await finishGroupDeletion(ctx, groupId, outcome.taskIds, group);
  return { result: 'deleted', state: outcome.state };
}

/** An admin's `DELETE /group/:id`: a finished group with its member tasks, logs, debs and repository. */
export async function deleteGroup(ctx: CoordinatorContext, groupId: string): Promise<void> {
  const outcome = await removeGroup(ctx, groupId);
  if (outcome.result === 'deleted') {
    ctx.logger.info({ groupId, state: outcome.state }, 'group deleted');
    return;
  }
  if (outcome.state === '') throw new AoinbError('NOT_FOUND', `group ${groupId} does not exist`);
  throw new AoinbError(
    'CONFLICT',
    outcome.result === 'running'
      ? `group ${groupId} is ${outcome.state} but a member task is still queued or running: wait for it to end`
      : `group ${groupId} is ${outcome.state}: only a finished group can be deleted; ` +
          `cancel it first (POST /group/${groupId}/cancel)`,
  );
}
