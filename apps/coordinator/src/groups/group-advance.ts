import { isFinalGroupState, type GroupRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { addMemberJob, memberJob } from './group-jobs.ts';
import { cancelMembers, releaseMember, skipMember } from './group-members.ts';
import { decide } from './group-policy.ts';
import { publishGroupAtomically } from './group-publish.ts';
import { allEnded, deriveGroupState, loadSnapshot, type GroupSnapshot } from './group-snapshot.ts';

/**
 * A sequential round: every waiting member is released to its arch's sequence
 * job, then that job is added as the parent's child (once: a crash in between
 * leaves a live build without a job, which the round's parent restores). True
 * when it released a member (look again).
 */
async function startSequences(ctx: CoordinatorContext, snap: GroupSnapshot): Promise<boolean> {
  const archs = new Set<string>();
  for (const p of snap.plan) {
    const record = snap.members.get(p.key);
    if (record?.round === snap.group.round && record.phase === 'waiting' && (await releaseMember(ctx, snap, p.key)))
      archs.add(p.arch);
  }
  if (archs.size === 0) return false;
  const after = await loadSnapshot(ctx, snap.group.id);
  for (const arch of archs) {
    const first = after?.plan.find((p) => p.arch === arch && after.builds.get(p.key)?.state === 'queued');
    const job = after && first ? memberJob(ctx, after, first.key) : undefined;
    if (after && job) await addMemberJob(ctx, after.group, job);
  }
  return true;
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
 * published to the branch, then the group takes its final state (only in the
 * round the snapshot saw: a retry meanwhile is left alone).
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
  const store = ctx.groups.store;
  const previous = await store.transitionGroup(group.id, ['queued', 'running'], final, false, set, [], group.round);
  if (previous) ctx.logger.info({ groupId: group.id, state: final }, 'group finished');
}

/**
 * The one step that moves a group on, from what Redis holds (so it may run
 * twice at once, or again after a crash: every change in it is a guarded
 * script): a sequential round's jobs, the cancel carried out, waiting members
 * released (their jobs added to the round's parent) or skipped, the group's
 * state kept, and the group settled once every member ended.
 */
export async function advanceGroup(ctx: CoordinatorContext, groupId: string): Promise<void> {
  for (let pass = 0; pass < 4; pass += 1) {
    const snap = await loadSnapshot(ctx, groupId);
    if (!snap || isFinalGroupState(snap.group.state)) return;
    if (snap.group.cancelRequested) {
      await cancelMembers(ctx, snap);
      const after = await loadSnapshot(ctx, groupId);
      if (after && allEnded(after)) await settle(ctx, after);
      return;
    }
    if (snap.group.mode === 'sequential' && (await startSequences(ctx, snap))) continue;
    if (await applyPolicy(ctx, snap)) continue;
    if (allEnded(snap)) return settle(ctx, snap);
    const state = deriveGroupState(snap.views.values(), false);
    if (state !== snap.group.state)
      await ctx.groups.store.transitionGroup(groupId, [snap.group.state], state, true, {}, [], snap.group.round);
    return;
  }
}
