import { open, stat, type FileHandle } from 'node:fs/promises';
import { AoinbError, errnoOf } from '@aoinb/errors';
import type { TaskRecord } from '@aoinb/farm-protocol';
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

/** Refuses, before anything is queued, a build of a task whose bundle archive is gone (it could only fail). */
export async function requireBundleArchive(ctx: CoordinatorContext, task: TaskRecord): Promise<void> {
  const found = await stat(ctx.layout.bundleArchive(task.id)).catch((error: unknown) => {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (!found?.isFile()) throw bundleMissing(task);
}
