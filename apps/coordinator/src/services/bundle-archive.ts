import { open, stat, type FileHandle } from 'node:fs/promises';
import { AoinbError, errnoOf } from '@aoinb/errors';
import type { GroupMemberPlan, TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';

/**
 * The task records a bundle whose archive is not in storage: retention's `bundle_days` removed it, an operator
 * deleted it, or a coordinator died between recording an upload and moving its files in. A 410 naming the task
 * (never the host path), so that a worker fails the build at once instead of retrying a 5xx for 15 minutes.
 */
export function bundleMissing(task: Pick<TaskRecord, 'id' | 'state'>): AoinbError {
  const next =
    task.state === 'created'
      ? `upload it again (PUT /task/${task.id}/build_bundle)`
      : 'submit the package again as a new task';
  return new AoinbError(
    'BUNDLE_MISSING',
    `task ${task.id} has a bundle on record, but its archive is no longer in the coordinator's storage ` +
      `(removed by retention or by hand): ${next}`,
  );
}

/** Opens the task's bundle archive to send it; a missing file is BUNDLE_MISSING, any other error stays itself. */
export async function openBundleArchive(ctx: CoordinatorContext, task: TaskRecord): Promise<FileHandle> {
  try {
    return await open(ctx.layout.bundleArchive(task.id), 'r');
  } catch (error) {
    throw errnoOf(error) === 'ENOENT' ? bundleMissing(task) : error;
  }
}

/** Whether the task's bundle archive is in storage (any error but ENOENT stays itself). */
async function hasBundleArchive(ctx: CoordinatorContext, taskId: string): Promise<boolean> {
  const found = await stat(ctx.layout.bundleArchive(taskId)).catch((error: unknown) => {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  return found?.isFile() === true;
}

/** Refuses, before anything is queued, a build of a task whose bundle archive is gone (it could only fail). */
export async function requireBundleArchive(ctx: CoordinatorContext, task: TaskRecord): Promise<void> {
  if (!(await hasBundleArchive(ctx, task.id))) throw bundleMissing(task);
}

/**
 * Refuses a group's retry, before anything changes, when a member it would run again lost its bundle archive:
 * that member could only fail fetching it, and a round with it would be half a retry. Names every such member
 * task with its package (never the host path).
 */
export async function requireMemberBundles(
  ctx: CoordinatorContext,
  groupId: string,
  members: Array<Pick<GroupMemberPlan, 'taskId' | 'package'>>,
): Promise<void> {
  const tasks = new Map(members.map((m) => [m.taskId, m.package]));
  const missing: string[] = [];
  for (const [taskId, pkg] of tasks) if (!(await hasBundleArchive(ctx, taskId))) missing.push(`${taskId} (${pkg})`);
  if (missing.length === 0) return;
  const which = missing.length === 1 ? `member task ${missing[0]} has` : `member tasks ${missing.join(', ')} have`;
  throw new AoinbError(
    'BUNDLE_MISSING',
    `group ${groupId} cannot be retried: ${which} a bundle on record, but its archive is no longer in the ` +
      `coordinator's storage (removed by retention or by hand); nothing was retried: ` +
      'submit those packages again as new tasks, in a new group',
  );
}
