import type { JobsOptions } from 'bullmq';
import type { ExtraAptSource } from '@aoinb/buildroot';
import {
  buildJobId,
  buildJobName,
  groupFlowQueueName,
  groupJobName,
  groupParentJobId,
  sequenceJobId,
  type BuildJobData,
  type GroupMemberPlan,
  type GroupRecord,
  type SequenceStep,
  type TaskRecord,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { jobDataFor } from '../services/task-service.ts';
import { groupRepoSuite } from './group-runtime.ts';
import type { GroupSnapshot } from './group-snapshot.ts';

/** apt pin priority of a group repository: above the branch (500), below a forced downgrade (1000). */
export const groupPinPriority = 990;

/**
 * The group's repository as an extra apt source of its member
 * builds, pinned above the branch, checked with the farm key.
 */
export function groupAptSource(publicUrl: string, groupId: string, key: string): ExtraAptSource {
  const name = `aoinb-group-${groupId}`;
  return {
    name,
    line: `deb [signed-by=/etc/apt/keyrings/${name}.asc] ${publicUrl}/group/${groupId}/repo ./`,
    key,
    pinPriority: groupPinPriority,
    pin: `release n=${groupRepoSuite(groupId)}`,
  };
}

/** The job payload of one member: the task's, plus the group and its repository. */
export function memberJobData(ctx: CoordinatorContext, task: TaskRecord, arch: string, run: number): BuildJobData {
  const groupId = task.groupId as string;
  return {
    ...jobDataFor(task, arch, run),
    groupId,
    extraAptSources: [groupAptSource(ctx.config.farm.coordinator.publicUrl, groupId, ctx.repo.publicKey)],
  };
}

function childOptions(ctx: CoordinatorContext, group: GroupRecord, jobId: string, priority: number): JobsOptions {
  const c = ctx.config.farm.coordinator;
  return {
    jobId,
    priority,
    attempts: 1,
    removeOnComplete: { count: c.keepCompletedJobs },
    removeOnFail: { count: c.keepFailedJobs },
    // A job failed outside a report (a worker lost too often) must not hold the round's parent forever.
    ignoreDependencyOnFailure: true,
    parent: { id: groupParentJobId(group.id, group.round), queue: `${ctx.keys.prefix}:${groupFlowQueueName}` },
  };
}

/** The sequence job of one arch: every member of the round on that arch, in plan (topological) order. */
export function sequenceJob(
  ctx: CoordinatorContext,
  steps: Array<{ plan: GroupMemberPlan; task: TaskRecord; run: number }>,
): { data: BuildJobData; priority: number } {
  const sequence: SequenceStep[] = steps.map((s) => ({
    ...memberJobData(ctx, s.task, s.plan.arch, s.run),
    after: s.plan.deps,
  }));
  const { after: _after, ...first } = sequence[0] as SequenceStep;
  return { data: { ...first, sequence }, priority: Math.min(...steps.map((s) => s.plan.priority)) };
}

/**
 * Adds the parent job of the group's current round to `group-flow` (deterministic
 * id: adding it again is a no-op). It starts with no children: each member's job
 * becomes its child when the member is released.
 */
export async function addRoundParent(ctx: CoordinatorContext, group: GroupRecord): Promise<void> {
  const c = ctx.config.farm.coordinator;
  await ctx.groups.parents.add(
    groupJobName,
    { groupId: group.id, round: group.round },
    {
      jobId: groupParentJobId(group.id, group.round),
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { count: c.keepCompletedJobs },
      removeOnFail: { count: c.keepFailedJobs },
    },
  );
}

/** A released member's job (or its arch's sequence job): what it runs, its id and priority. */
export interface MemberJob {
  arch: string;
  jobId: string;
  data: BuildJobData;
  priority: number;
}

/** The job of released member `key` in the snapshot: its own (dag), or the sequence of its arch (sequential). */
export function memberJob(ctx: CoordinatorContext, snap: GroupSnapshot, key: string): MemberJob | undefined {
  const plan = snap.plan.find((p) => p.key === key);
  const task = plan && snap.tasks.get(plan.taskId);
  const record = snap.members.get(key);
  if (!plan || !task || !record) return undefined;
  if (snap.group.mode === 'dag') {
    const data = memberJobData(ctx, task, plan.arch, record.run);
    return { arch: plan.arch, jobId: buildJobId(task.id, plan.arch, record.run), data, priority: plan.priority };
  }
  const jobId = sequenceJobId(snap.group.id, plan.arch, record.round);
  const steps = snap.plan.flatMap((p) => {
    const t = snap.tasks.get(p.taskId);
    const b = snap.builds.get(p.key);
    return p.arch === plan.arch && t && b?.jobId === jobId ? [{ plan: p, task: t, run: b.run }] : [];
  });
  if (steps.length === 0) return undefined;
  return { arch: plan.arch, jobId, ...sequenceJob(ctx, steps) };
}

/**
 * Adds a released member's job as a child of the round's parent (deterministic
 * id: adding a job that exists changes nothing). BullMQ hands the parent back
 * once no child of it is pending.
 */
export async function addMemberJob(ctx: CoordinatorContext, group: GroupRecord, job: MemberJob): Promise<void> {
  await ctx.dispatcher.queue(job.arch).add(buildJobName, job.data, childOptions(ctx, group, job.jobId, job.priority));
}
