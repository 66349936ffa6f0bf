import { buildJobId, sequenceJobId, type GroupMemberPlan, type MemberRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { endLog } from '../services/build-log.ts';
import { cancelBuild } from '../services/task-cancel.ts';
import { placedBuild } from '../services/task-service.ts';
import { addMemberJob, memberJob } from './group-jobs.ts';
import type { SkipDecision } from './group-policy.ts';
import type { GroupSnapshot } from './group-snapshot.ts';

/**
 * What a group's step does to one member. Each change is a compare-and-set in
 * Redis (the member's phase and round, the group's round and cancel, the
 * build's state), so two steps at once (a member's end and the round's parent,
 * or a restarted coordinator) change it once.
 */

function parts(snap: GroupSnapshot, key: string): { plan: GroupMemberPlan; record: MemberRecord } {
  const plan = snap.plan.find((m) => m.key === key) as GroupMemberPlan;
  return { plan, record: snap.members.get(key) as MemberRecord };
}

export function memberLabel(snap: GroupSnapshot, key: string): string {
  const p = snap.plan.find((m) => m.key === key);
  return p ? `${p.package} (${p.arch})` : key;
}

/** Why a member was skipped, in words. */
export function skipReason(
  snap: GroupSnapshot,
  because: { key: string; state: string },
  root: { key: string; state: string },
): string {
  const ended = because.state === 'skipped' ? 'was skipped' : because.state;
  const direct = `dependency ${memberLabel(snap, because.key)} ${ended}`;
  return root.key === because.key
    ? `skipped: ${direct}`
    : `skipped: ${direct} (${memberLabel(snap, root.key)} ${root.state})`;
}

/**
 * Waiting -> released: the build is written `queued` (Lua, once), then (dag) its
 * job is added as a child of the round's parent; a sequential member's job is
 * its arch's sequence, added once the round's members are released.
 */
export async function releaseMember(ctx: CoordinatorContext, snap: GroupSnapshot, key: string): Promise<boolean> {
  const { plan, record } = parts(snap, key);
  const task = snap.tasks.get(plan.taskId);
  if (!task) return false;
  const sequential = snap.group.mode === 'sequential';
  const jobId = sequential
    ? sequenceJobId(snap.group.id, plan.arch, record.round)
    : buildJobId(task.id, plan.arch, record.run);
  const build = await placedBuild(ctx, task, plan.arch, record.run, jobId);
  const released = await ctx.groups.store.releaseMember({
    groupId: snap.group.id,
    round: record.round,
    member: { ...record, phase: 'released', at: build.queuedAt },
    build,
    taskArchs: task.archs,
  });
  if (!released || sequential) return released;
  const job = memberJob(ctx, snap, key);
  if (job) await addMemberJob(ctx, snap.group, job);
  return true;
}

/**
 * A member whose dependency did not succeed: skipped (a waiting
 * one has no job yet), or its queued build cancelled (sequential).
 */
export async function skipMember(ctx: CoordinatorContext, snap: GroupSnapshot, d: SkipDecision): Promise<void> {
  const { plan, record } = parts(snap, d.key);
  const next: MemberRecord = {
    ...record,
    phase: 'skipped',
    at: new Date().toISOString(),
    skippedBecause: { key: d.because.key, state: d.because.state, rootKey: d.root.key, rootState: d.root.state },
  };
  if (record.phase === 'waiting') {
    await ctx.groups.store.setMember(snap.group.id, d.key, ['waiting'], record.round, next);
    return;
  }
  const task = snap.tasks.get(plan.taskId);
  const build = snap.builds.get(d.key);
  if (!task || !build || build.state !== 'queued') return;
  const reason = skipReason(snap, d.because, d.root);
  const done = await ctx.store.transition({
    taskId: task.id,
    arch: plan.arch,
    run: build.run,
    archs: task.archs,
    from: ['queued'],
    to: 'cancelled',
    set: { reason, finishedAt: next.at },
  });
  if (!done.done) return;
  await ctx.groups.store.setMember(snap.group.id, d.key, ['released'], record.round, next);
  await endLog(ctx, task.id, plan.arch, build.run, 'cancelled', reason);
}

/** A cancelled group: waiting members are cancelled outright, queued and running builds as a task cancel would. */
export async function cancelMembers(ctx: CoordinatorContext, snap: GroupSnapshot): Promise<void> {
  const reason = snap.group.reason ?? 'the group was cancelled';
  for (const plan of snap.plan) {
    const record = snap.members.get(plan.key);
    const status = snap.views.get(plan.key)?.status;
    if (!record || record.round !== snap.group.round) continue;
    if (status === 'waiting') {
      await ctx.groups.store.setMember(snap.group.id, plan.key, ['waiting'], record.round, {
        ...record,
        phase: 'cancelled',
        at: new Date().toISOString(),
      });
    } else if (status === 'queued' || status === 'running') {
      const task = snap.tasks.get(plan.taskId);
      const build = snap.builds.get(plan.key);
      if (task && build) await cancelBuild(ctx, task, build, reason);
    }
  }
}
