import {
  buildSchema,
  decodeFields,
  type BuildRecord,
  type GroupMemberPlan,
  type GroupRecord,
  type GroupState,
  type MemberRecord,
  type TaskRecord,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { isEnded, type MemberStatus, type MemberView } from './group-policy.ts';

/** Everything known about a group at one moment: record, plan, member phases, their tasks and builds. */
export interface GroupSnapshot {
  group: GroupRecord;
  plan: GroupMemberPlan[];
  members: Map<string, MemberRecord>;
  tasks: Map<string, TaskRecord>;
  /** The current build of each member that has one, by member key. */
  builds: Map<string, BuildRecord>;
  views: Map<string, MemberView>;
}

/** A member's status: its phase in the group, or (once released) its build's state. */
export function memberView(record: MemberRecord | undefined, build: BuildRecord | undefined): MemberView {
  if (!record || record.phase === 'waiting') return { status: 'waiting' };
  if (record.phase === 'skipped')
    return {
      status: 'skipped',
      ...(record.skippedBecause
        ? { root: { key: record.skippedBecause.rootKey, state: record.skippedBecause.rootState } }
        : {}),
    };
  if (record.phase === 'cancelled') return { status: 'cancelled' };
  return { status: build?.state ?? 'queued' };
}

/** The build records of every member, in one pipeline. */
async function memberBuilds(ctx: CoordinatorContext, plan: GroupMemberPlan[]): Promise<Map<string, BuildRecord>> {
  const pipeline = ctx.redis.pipeline();
  for (const m of plan) pipeline.hgetall(ctx.keys.build(m.taskId, m.arch));
  const replies = (await pipeline.exec()) ?? [];
  const builds = new Map<string, BuildRecord>();
  plan.forEach((m, i) => {
    const hash = (replies[i]?.[1] ?? {}) as Record<string, string>;
    if (hash.state)
      builds.set(m.key, {
        attempt: 0,
        cancelRequested: false,
        artifacts: [],
        ...decodeFields(buildSchema, hash),
      } as BuildRecord);
  });
  return builds;
}

export async function loadSnapshot(ctx: CoordinatorContext, groupId: string): Promise<GroupSnapshot | undefined> {
  const store = ctx.groups.store;
  const group = await store.getGroup(groupId);
  if (!group) return undefined;
  const [plan, members] = await Promise.all([store.getPlan(groupId), store.getMembers(groupId)]);
  const taskList = await ctx.store.getTasks(group.taskIds);
  const tasks = new Map(taskList.flatMap((t) => (t ? [[t.id, t] as const] : [])));
  const builds = await memberBuilds(ctx, plan);
  const views = new Map(plan.map((m) => [m.key, memberView(members.get(m.key), builds.get(m.key))]));
  return { group, plan, members, tasks, builds, views };
}

/**
 * The group's state from its members: `queued` until one starts, `running`
 * until every member ended, then `succeeded` (all), `failed` (none),
 * `partial` (some) or `cancelled` (a cancel was asked and not all succeeded).
 */
export function deriveGroupState(views: Iterable<MemberView>, cancelRequested: boolean): GroupState {
  const statuses = [...views].map((v) => v.status);
  if (statuses.every(isEnded)) {
    const succeeded = statuses.filter((s) => s === 'succeeded').length;
    if (succeeded === statuses.length) return 'succeeded';
    if (cancelRequested) return 'cancelled';
    return succeeded === 0 ? 'failed' : 'partial';
  }
  return statuses.some((s) => s !== 'waiting' && s !== 'queued') ? 'running' : 'queued';
}

export function allEnded(snapshot: GroupSnapshot): boolean {
  return [...snapshot.views.values()].every((v) => isEnded(v.status));
}

/** Counts of members per status. */
export function statusCounts(views: Iterable<MemberView>): Record<MemberStatus, number> {
  const counts: Record<MemberStatus, number> = {
    waiting: 0,
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    skipped: 0,
  };
  for (const v of views) counts[v.status] += 1;
  return counts;
}
