import type { FlowJobNode, JobsOptions } from 'bullmq';
import type { ExtraAptSource } from '@aoinb/buildroot';
import {
  buildJobId,
  buildJobName,
  buildQueueName,
  farmPrefix,
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

/**
 * A waiting member's job sits in its arch queue as a *delayed* child of the
 * round's parent job, parked until this date (BullMQ keeps delayed jobs in a
 * sorted set scored by `time * 4096`, an exact double until about 2039), and
 * the scheduler promotes it when its dependencies have succeeded.
 */
const parkUntilMs = 2_190_000_000_000;

function parkedDelayMs(): number {
  return Math.max(86_400_000, parkUntilMs - Date.now());
}

/** apt pin priority of a group repository: above the branch (500), below a forced downgrade (1000). */
export const groupPinPriority = 990;

/** The group's repository as an extra apt source of its member builds, pinned above the branch, checked with the farm key. */
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

function childOptions(ctx: CoordinatorContext, jobId: string, priority: number, parked: boolean): JobsOptions {
  const c = ctx.config.farm.coordinator;
  return {
    jobId,
    priority,
    attempts: 1,
    removeOnComplete: { count: c.keepCompletedJobs },
    removeOnFail: { count: c.keepFailedJobs },
    // A job failed outside a report (a worker lost too often) must not hold the round's parent forever.
    ignoreDependencyOnFailure: true,
    ...(parked ? { delay: parkedDelayMs() } : {}),
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

export interface RoundMember {
  plan: GroupMemberPlan;
  task: TaskRecord;
  run: number;
}

/** The children of a round's flow: a parked job per member (dag), or one sequence job per arch (sequential). */
function roundChildren(ctx: CoordinatorContext, group: GroupRecord, members: RoundMember[]): FlowJobNode[] {
  if (group.mode === 'dag') {
    return members.map((m) => ({
      name: buildJobName,
      queueName: buildQueueName(m.plan.arch),
      data: memberJobData(ctx, m.task, m.plan.arch, m.run),
      opts: childOptions(ctx, buildJobId(m.task.id, m.plan.arch, m.run), m.plan.priority, true),
    }));
  }
  return group.archs.flatMap((arch) => {
    const steps = members.filter((m) => m.plan.arch === arch);
    if (steps.length === 0) return [];
    const job = sequenceJob(ctx, steps);
    return [
      {
        name: buildJobName,
        queueName: buildQueueName(arch),
        data: job.data,
        opts: childOptions(ctx, sequenceJobId(group.id, arch, group.round), job.priority, false),
      },
    ];
  });
}

/** Adds a round's flow: the parent job in `group-flow`, its children in the arch queues (deterministic ids: adding twice is a no-op). */
export async function addRoundFlow(ctx: CoordinatorContext, group: GroupRecord, members: RoundMember[]): Promise<void> {
  const c = ctx.config.farm.coordinator;
  await ctx.groups.flows.add({
    name: groupJobName,
    queueName: groupFlowQueueName,
    data: { groupId: group.id, round: group.round },
    opts: {
      jobId: groupParentJobId(group.id, group.round),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { count: c.keepCompletedJobs },
      removeOnFail: { count: c.keepFailedJobs },
    },
    children: roundChildren(ctx, group, members),
  });
}

/**
 * Adds one member's job again (it went missing): as a child of the round's
 * parent while that still waits for its children, otherwise on its own.
 */
export async function readdMemberJob(
  ctx: CoordinatorContext,
  group: GroupRecord,
  data: BuildJobData,
  jobId: string,
  priority: number,
  parked: boolean,
): Promise<void> {
  const parentId = groupParentJobId(group.id, group.round);
  const parent = await ctx.groups.parents.getJob(parentId);
  const attach = parent && (await parent.getState()) === 'waiting-children';
  const opts = {
    ...childOptions(ctx, jobId, priority, parked),
    ...(attach ? { parent: { id: parentId, queue: `${farmPrefix}:${groupFlowQueueName}` } } : {}),
  };
  await ctx.dispatcher.queue(data.arch).add(buildJobName, data, opts);
}

/** Releases a parked member job; a job that is not parked any more is left alone. False when there is no job. */
export async function promoteMemberJob(ctx: CoordinatorContext, arch: string, jobId: string): Promise<boolean> {
  const job = await ctx.dispatcher.getJob(arch, jobId);
  if (!job) return false;
  if ((await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
  return true;
}
