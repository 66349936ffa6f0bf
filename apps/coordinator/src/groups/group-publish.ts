import path from 'node:path';
import type { BuildRecord, TaskRecord } from '@aoinb/farm-protocol';
import type { BuiltDeb } from '../build-lifecycle.ts';
import type { CoordinatorContext } from '../context.ts';
import type { GroupSnapshot } from './group-snapshot.ts';

/**
 * A member's debs go to its group's repository before its build turns
 * `succeeded`, so the members waiting for it install them; the build services
 * then publish them to the branch unless the group publishes atomically.
 */
export async function publishToGroup(
  ctx: CoordinatorContext,
  task: TaskRecord,
  debs: BuiltDeb[],
): Promise<{ toBranch: boolean }> {
  if (!task.groupId) return { toBranch: true };
  const group = await ctx.groups.store.getGroup(task.groupId);
  await ctx.groups.repo.publish(task.groupId, debs);
  return { toBranch: group?.publish !== 'atomic' };
}

/** Where a finished build's debs are kept (the attempt that succeeded). */
function builtFiles(ctx: CoordinatorContext, build: BuildRecord): BuiltDeb[] {
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
