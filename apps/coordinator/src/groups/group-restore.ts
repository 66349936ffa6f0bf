import type { BuildRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { addMemberJob, addRoundParent, memberJob } from './group-jobs.ts';
import { loadSnapshot, type GroupSnapshot } from './group-snapshot.ts';

/** Adds member `key`'s job when it is missing; true when it did. */
async function restoreIn(ctx: CoordinatorContext, snap: GroupSnapshot, key: string): Promise<boolean> {
  const job = memberJob(ctx, snap, key);
  if (!job || (await ctx.dispatcher.getJob(job.arch, job.jobId))) return false;
  await addRoundParent(ctx, snap.group);
  await addMemberJob(ctx, snap.group, job);
  ctx.logger.warn(
    { groupId: snap.group.id, member: key, jobId: job.jobId },
    'job of a released group member was missing; added it',
  );
  return true;
}

/**
 * The safety net of a crash between a member's release (its build `queued`)
 * and the add of its job: a live member build whose job is missing gets it
 * again, as a child of its round's parent (a dag member's own job, or its
 * arch's sequence). Jobs that exist are left alone.
 */
export async function restoreMemberJob(ctx: CoordinatorContext, groupId: string, build: BuildRecord): Promise<void> {
  const snap = await loadSnapshot(ctx, groupId);
  const key = snap?.plan.find((p) => p.taskId === build.taskId && p.arch === build.arch)?.key;
  if (snap && key) await restoreIn(ctx, snap, key);
}

/** Every live member build of the group's current round has its job (see restoreMemberJob). */
export async function restoreRoundJobs(ctx: CoordinatorContext, groupId: string): Promise<void> {
  const snap = await loadSnapshot(ctx, groupId);
  if (!snap) return;
  const seen = new Set<string>();
  for (const p of snap.plan) {
    const build = snap.builds.get(p.key);
    const record = snap.members.get(p.key);
    if (!build || record?.round !== snap.group.round || record.phase !== 'released') continue;
    if ((build.state !== 'queued' && build.state !== 'running') || seen.has(build.jobId)) continue;
    seen.add(build.jobId);
    await restoreIn(ctx, snap, p.key);
  }
}
