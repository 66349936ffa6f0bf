import { AoinbError } from '@aoinb/errors';
import { parseBuildJobId, parseSequenceJobId, type BuildRecord, type TaskRecord } from '@aoinb/farm-protocol';
import type { BuildLifecycle } from '../build-lifecycle.ts';
import type { CoordinatorContext } from '../context.ts';
import { advanceGroup } from './group-advance.ts';
import { restoreMemberJob } from './group-restore.ts';
import { publishToGroup } from './group-publish.ts';

/** A group's member tasks are built, cancelled and retried through their group. */
function refuseMember(task: TaskRecord, what: string): void {
  if (task.groupId)
    throw new AoinbError(
      'CONFLICT',
      `task ${task.id} belongs to group ${task.groupId}: ${what} through the group (POST ` +
        `/group/${task.groupId}/cancel or /retry)`,
    );
}

/** The first member job a worker takes turns its group `running`. */
async function jobStarted(ctx: CoordinatorContext, jobId: string): Promise<void> {
  const sequence = parseSequenceJobId(jobId);
  const build = sequence ? undefined : parseBuildJobId(jobId);
  const groupId = sequence?.groupId ?? (build ? await ctx.groups.store.groupOfTask(build.taskId) : undefined);
  if (groupId) await ctx.groups.store.transitionGroup(groupId, ['queued'], 'running', true, {}, [], sequence?.round);
}

/**
 * A build ended. Any successful build's duration feeds the critical-path
 * estimates of later groups; a member's end moves its group on at once
 * (dependents released or skipped, the group settled when it was the last).
 */
async function ended(ctx: CoordinatorContext, task: TaskRecord, build: BuildRecord): Promise<void> {
  const seconds = (Date.parse(build.finishedAt ?? '') - Date.parse(build.startedAt ?? '')) / 1000;
  if (build.state === 'succeeded' && task.bundle && Number.isFinite(seconds))
    await ctx.groups.store.recordDuration(task.bundle.packageName, build.arch, seconds);
  if (task.groupId) await advanceGroup(ctx, task.groupId);
}

/** How group builds hook into the build services (registered by `startGroupFlow`). */
export function groupLifecycle(ctx: CoordinatorContext): BuildLifecycle {
  return {
    checkDirectChange: refuseMember,
    jobStarted: (_arch, jobId) => jobStarted(ctx, jobId),
    publishing: (task, debs) => publishToGroup(ctx, task, debs),
    ended: (task, build) => ended(ctx, task, build),
    restoreJob: async (task, build) => {
      if (!task.groupId) return false;
      await restoreMemberJob(ctx, task.groupId, build);
      return true;
    },
  };
}
