import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import type { CoordinatorContext } from '../context.ts';
import { requireTask } from '../services/task-service.ts';
import type { PublishOutcome } from './apt-repo.ts';

/**
 * An admin's `POST /task/:id/publish/:arch`: the debs of the build's last
 * attempt go to the task's branch repository again; with `replace`, debs of a
 * version already listed with other contents replace the listed ones (the
 * only way past REPO_CONFLICT). The build's state is left as it is.
 */
export async function republishBuild(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  replace: boolean,
): Promise<PublishOutcome & { branch: string }> {
  const task = await requireTask(ctx, taskId);
  const build = await ctx.store.getBuild(task.id, arch);
  if (!build || !task.branch || build.artifacts.length === 0)
    throw new AoinbError('NOT_FOUND', `task ${task.id} has no built debs for ${arch} to publish`);
  const dir = ctx.layout.artifactDir(build.taskId, build.arch, build.run, build.attempt);
  const files = build.artifacts.map((a) => ({ source: path.join(dir, a.name), name: a.name }));
  const outcome = await ctx.repo.publish(task.branch, files, { replace });
  ctx.logger.info(
    { taskId: task.id, arch, branch: task.branch, ...outcome },
    replace ? 'debs republished by an admin, replacing' : 'debs republished by an admin',
  );
  return { branch: task.branch, ...outcome };
}
