import { AoinbError } from '@aoinb/errors';
import type { GroupRecord, GroupState, MemberRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext, Principal } from '../context.ts';
import { requireMemberBundles } from '../services/bundle-archive.ts';
import { advanceGroup } from './group-advance.ts';
import { addRoundParent } from './group-jobs.ts';
import { estimateSourcesOf, memberEstimates, reprioritize } from './group-plan.ts';
import { loadSnapshot } from './group-snapshot.ts';

export async function requireGroup(ctx: CoordinatorContext, groupId: string): Promise<GroupRecord> {
  const group = await ctx.groups.store.getGroup(groupId);
  if (!group) throw new AoinbError('NOT_FOUND', `group ${groupId} does not exist`);
  return group;
}

/**
 * `POST /group/:id/cancel`: members not started yet are cancelled at once,
 * running builds are told to stop; the group ends `cancelled` when they have
 * (their ends move it on, and the round's parent completes after the last).
 */
export async function cancelGroup(ctx: CoordinatorContext, groupId: string, by: Principal): Promise<void> {
  await requireGroup(ctx, groupId);
  const { asked, state } = await ctx.groups.store.requestCancel(groupId, `cancelled by ${by.name}`);
  if (!asked) throw new AoinbError('CONFLICT', `group ${groupId} is already ${state}`);
  await advanceGroup(ctx, groupId);
}

const retryable: GroupState[] = ['failed', 'partial', 'cancelled'];

/**
 * `POST /group/:id/retry`: a new round with only the members that failed,
 * were skipped or were cancelled (each with a new run), and its parent job;
 * the members that succeeded stay, and their debs stay in the group
 * repository for the rest. Two retries at once make one round (the second is
 * a 409). A member to run again whose bundle archive is gone refuses the whole
 * retry (410), before anything changes.
 */
export async function retryGroup(
  ctx: CoordinatorContext,
  groupId: string,
): Promise<{ round: number; members: string[] }> {
  const snap = await loadSnapshot(ctx, groupId);
  if (!snap) throw new AoinbError('NOT_FOUND', `group ${groupId} does not exist`);
  const { group } = snap;
  const refused = (state: string): AoinbError =>
    new AoinbError(
      'CONFLICT',
      `group ${groupId} is ${state}: only a failed, partial or cancelled group can be retried`,
    );
  if (!retryable.includes(group.state)) throw refused(group.state);
  const again = snap.plan.filter((p) =>
    ['failed', 'skipped', 'cancelled'].includes(snap.views.get(p.key)?.status ?? ''),
  );
  // A member whose bundle went (retention's bundle_days, by hand) could only fail fetching it: refuse it all.
  await requireMemberBundles(ctx, groupId, again);
  const round = group.round + 1;
  const now = new Date().toISOString();
  const members: Record<string, MemberRecord> = {};
  for (const p of again) {
    const previousRun = Math.max(snap.builds.get(p.key)?.run ?? 0, snap.members.get(p.key)?.run ?? 0);
    members[p.key] = { phase: 'waiting', round, run: previousRun + 1, at: now };
  }
  const estimates = await memberEstimates(
    estimateSourcesOf(ctx),
    ctx.config.farm.coordinator.groupDefaultBuildSeconds,
    again,
  );
  const plan = reprioritize(snap.plan, new Set(Object.keys(members)), estimates);
  if (!(await ctx.groups.store.startRound(groupId, retryable, group.round, plan, members)))
    throw refused((await ctx.groups.store.getGroup(groupId))?.state ?? 'gone');
  ctx.logger.info({ groupId, round, members: again.length }, 'group retried');
  await addRoundParent(ctx, { ...group, round });
  await advanceGroup(ctx, groupId);
  return { round, members: again.map((p) => p.key) };
}
