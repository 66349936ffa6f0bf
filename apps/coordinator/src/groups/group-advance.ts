import { isFinalGroupState, type GroupRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { addRoundFlow, type RoundMember } from './group-jobs.ts';
import { cancelMembers, releaseMember, skipMember } from './group-members.ts';
import { decide } from './group-policy.ts';
import { publishGroupAtomically } from './group-publish.ts';
import { allEnded, deriveGroupState, loadSnapshot, type GroupSnapshot } from './group-snapshot.ts';

/**
 * Brings the current round into BullMQ: a sequential group's members are
 * released to their arch's sequence job; the group repository's index is
 * written and the round's flow added, once (`flowRound` records it; adding
 * again would be a no-op anyway).
 */
async function ensureRound(ctx: CoordinatorContext, snap: GroupSnapshot): Promise<boolean> {
  const { group } = snap;
  let changed = false;
  const round = snap.plan.filter((p) => snap.members.get(p.key)?.round === group.round);
  if (group.mode === 'sequential') {
    for (const p of round)
      if (snap.members.get(p.key)?.phase === 'waiting' && (await releaseMember(ctx, snap, p.key))) changed = true;
  }
  if (group.flowRound < group.round) {
    const members: RoundMember[] = round.flatMap((plan) => {
      const task = snap.tasks.get(plan.taskId);
      const record = snap.members.get(plan.key);
      return task && record ? [{ plan, task, run: record.run }] : [];
    });
    // The group's repository exists (an empty index) before any member's apt-get update asks for it.
    await ctx.groups.repo.ensure(group.id);
    await addRoundFlow(ctx, group, members);
    await ctx.groups.store.updateGroup(group.id, { flowRound: group.round });
    changed = true;
  }
  return changed;
}

/**
 * One pass of the release rule: skips and releases. True when it skipped a
 * member (members may all have ended now: look again); releasing changes
 * neither the group's state nor whether it ended.
 */
async function applyPolicy(ctx: CoordinatorContext, snap: GroupSnapshot): Promise<boolean> {
  const order = snap.plan.map((p) => p.key);
  const deps = new Map(snap.plan.map((p) => [p.key, p.deps]));
  const decision = decide(order, deps, snap.views, { skipQueued: snap.group.mode === 'sequential' });
  for (const d of decision.skip) await skipMember(ctx, snap, d);
  // Most urgent first: an idle host takes the first job it sees, so release order is dispatch order.
  const priority = new Map(snap.plan.map((p) => [p.key, p.priority]));
  const release = [...decision.release].sort((a, b) => (priority.get(a) ?? 0) - (priority.get(b) ?? 0));
  if (snap.group.mode === 'dag') for (const key of release) await releaseMember(ctx, snap, key);
  return decision.skip.length > 0;
}

/**
 * A group whose members all ended: an atomic group in which all succeeded is
 * published to the branch, then the group takes its final state.
 */
async function settle(ctx: CoordinatorContext, snap: GroupSnapshot): Promise<void> {
  const { group } = snap;
  const final = deriveGroupState(snap.views.values(), group.cancelRequested);
  const set: Partial<GroupRecord> = { finishedAt: new Date().toISOString() };
  if (final === 'succeeded' && group.publish === 'atomic' && !group.publishedAt) {
    const count = await publishGroupAtomically(ctx, snap);
    set.publishedAt = new Date().toISOString();
    ctx.logger.info({ groupId: group.id, branch: group.branch, debs: count }, 'group published atomically');
  }
  const previous = await ctx.groups.store.transitionGroup(group.id, ['queued', 'running'], final, false, set);
  if (previous) ctx.logger.info({ groupId: group.id, state: final }, 'group finished');
}

/**
 * Moves a group on (the caller holds its lock): current round in BullMQ,
 * cancel carried out, waiting members released or skipped, group state kept,
 * and the group settled once every member ended.
 */
export async function advanceLocked(ctx: CoordinatorContext, groupId: string): Promise<void> {
  for (let pass = 0; pass < 4; pass += 1) {
    const snap = await loadSnapshot(ctx, groupId);
    if (!snap || isFinalGroupState(snap.group.state)) return;
    if (await ensureRound(ctx, snap)) continue;
    if (snap.group.cancelRequested) await cancelMembers(ctx, snap);
    if (!snap.group.cancelRequested && (await applyPolicy(ctx, snap))) continue;
    if (snap.group.cancelRequested) {
      const after = await loadSnapshot(ctx, groupId);
      if (after && allEnded(after)) await settle(ctx, after);
      return;
    }
    if (allEnded(snap)) return settle(ctx, snap);
    const state = deriveGroupState(snap.views.values(), false);
    if (state !== snap.group.state) await ctx.groups.store.transitionGroup(groupId, [snap.group.state], state, true);
    return;
  }
}

export function advanceGroup(ctx: CoordinatorContext, groupId: string): Promise<void> {
  return ctx.groups.lock(groupId, () => advanceLocked(ctx, groupId));
}
