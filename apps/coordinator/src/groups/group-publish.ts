import path from 'node:path';
import type { BuildRecord, TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import type { GroupSnapshot } from './group-snapshot.ts';

/**
 * Publishes a successful build's debs (the one call site in acceptResult).
 * A group member's debs always go to its group's repository first, so the
 * members waiting for it install them; then to the branch repository unless
 * the group publishes atomically. Returns the branch they reached, if any.
 */
export async function publishBuildArtifacts(
  ctx: CoordinatorContext,
  task: TaskRecord,
  files: Array<{ source: string; name: string }>,
): Promise<string | undefined> {
  const branch = task.branch as string;
  if (!task.groupId) {
    await ctx.repo.publish(branch, files);
    return branch;
  }
  const group = await ctx.groups.store.getGroup(task.groupId);
  await ctx.groups.repo.publish(task.groupId, files);
  if (group?.publish === 'atomic') return undefined;
  await ctx.repo.publish(branch, files);
  return branch;
}

/** Where a finished build's debs are kept (the attempt that succeeded). */
function builtFiles(ctx: CoordinatorContext, build: BuildRecord): Array<{ source: string; name: string }> {
  const dir = ctx.layout.artifactDir(build.taskId, build.arch, build.run, build.attempt);
  return build.artifacts.map((a) => ({ source: path.join(dir, a.name), name: a.name }));
}

/**
 * An atomic group in which every member succeeded: all its debs reach the
 * branch repository in one publish (one index rewrite), and the build records
 * say so. Safe to repeat: publishing the same files again changes nothing.
 */
export async function publishGroupAtomically(ctx: CoordinatorContext, snap: GroupSnapshot): Promise<number> {
  const builds = [...snap.builds.values()].filter((b) => b.state === 'succeeded');
  const files = builds.flatMap((b) => builtFiles(ctx, b));
  await ctx.repo.publish(snap.group.branch, files);
  for (const b of builds) await ctx.store.markPublished(b, snap.group.branch);
  return files.length;
}
