import { isFinalBuildState, parseSequenceJobId, type BuildRecord, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { failLostJob, requeueLostBuild } from '../services/recovery.ts';
import { advanceGroup } from './group-advance.ts';
import { memberJobData, readdMemberJob, sequenceJob } from './group-jobs.ts';
import { loadSnapshot } from './group-snapshot.ts';

/** A live member build lost its job: add it again (a dag member's own job, or its arch's sequence job). */
async function readdGroupJob(ctx: CoordinatorContext, task: TaskRecord, build: BuildRecord): Promise<void> {
  const snap = await loadSnapshot(ctx, task.groupId as string);
  const plan = snap?.plan.find((p) => p.taskId === task.id && p.arch === build.arch);
  if (!snap || !plan) return;
  const sequence = parseSequenceJobId(build.jobId);
  if (!sequence) {
    await readdMemberJob(
      ctx,
      snap.group,
      memberJobData(ctx, task, build.arch, build.run),
      build.jobId,
      plan.priority,
      false,
    );
  } else {
    const steps = snap.plan.flatMap((p) => {
      const t = snap.tasks.get(p.taskId);
      const b = snap.builds.get(p.key);
      return p.arch === build.arch && t && b?.jobId === build.jobId ? [{ plan: p, task: t, run: b.run }] : [];
    });
    const job = sequenceJob(ctx, steps);
    await readdMemberJob(ctx, snap.group, job.data, build.jobId, job.priority, false);
  }
  ctx.logger.warn(
    { groupId: snap.group.id, taskId: task.id, arch: build.arch, jobId: build.jobId },
    'job of a live group member was missing; added it again',
  );
}

/**
 * The reconcile loop's view of one live build of a group member. As for any
 * build: a lost job is added again, a job back in the queue under a running
 * build means a lost worker, a failed or finished job without a report fails
 * the build. Group specifics: a released member whose job is still parked is
 * promoted, and a sequential member left queued when its sequence ended is
 * first offered to the group (its dependency may have failed: then it is
 * skipped, not failed).
 */
export async function reconcileGroupBuild(
  ctx: CoordinatorContext,
  task: TaskRecord,
  build: BuildRecord,
): Promise<void> {
  if (!ctx.dispatcher.archs.includes(build.arch)) return;
  const job = await ctx.dispatcher.getJob(build.arch, build.jobId);
  if (!job) return readdGroupJob(ctx, task, build);
  const state = await job.getState();
  if (state === 'delayed') {
    await job.promote().catch(() => undefined);
    return;
  }
  if (build.state === 'running' && (state === 'waiting' || state === 'prioritized'))
    return requeueLostBuild(ctx, task, build);
  if (state !== 'failed' && state !== 'completed') return;
  if (parseSequenceJobId(build.jobId)) {
    await advanceGroup(ctx, task.groupId as string);
    const now = await ctx.store.getBuild(task.id, build.arch);
    if (!now || isFinalBuildState(now.state) || now.run !== build.run) return;
  }
  await failLostJob(ctx, task, build, job);
}
