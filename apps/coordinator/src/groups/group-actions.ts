import { AoinbError } from '@aoinb/errors';
import { isFinalGroupState, type GroupRecord, type MemberRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext, Principal } from '../context.ts';
import { advanceLocked } from './group-advance.ts';
import { memberEstimates, reprioritize } from './group-plan.ts';
import { loadSnapshot } from './group-snapshot.ts';

export async function requireGroup(ctx: CoordinatorContext, groupId: string): Promise<GroupRecord> {
  const group = await ctx.groups.store.getGroup(groupId);
  if (!group) throw new AoinbError('NOT_FOUND', `group ${groupId} does not exist`);
  return group;
}

/**
 * `POST /group/:id/cancel`: members not started yet are cancelled at once,
 * running builds are told to stop; the group ends `cancelled` when they have.
 */
export async function cancelGroup(ctx: CoordinatorContext, groupId: string, by: Principal): Promise<void> {
  await requireGroup(ctx, groupId);
  await ctx.groups.lock(groupId, async () => {
    const group = await requireGroup(ctx, groupId);
    if (isFinalGroupState(group.state)) throw new AoinbError('CONFLICT', `group ${groupId} is already ${group.state}`);
    if (!group.cancelRequested)
      await ctx.groups.store.updateGroup(groupId, { cancelRequested: true, reason: `cancelled by ${by.name}` });
    await advanceLocked(ctx, groupId);
  });
}

/**
 * `POST /group/:id/retry`: a new round with only the members that failed,
 * were skipped or were cancelled (each with a new run); the members that
 * succeeded stay, and their debs stay in the group repository for the rest.
 */
export async function retryGroup(
  ctx: CoordinatorContext,
  groupId: string,
): Promise<{ round: number; members: string[] }> {
  await requireGroup(ctx, groupId);
  return ctx.groups.lock(groupId, async () => {
    const snap = await loadSnapshot(ctx, groupId);
    if (!snap) throw new AoinbError('NOT_FOUND', `group ${groupId} does not exist`);
    const { group } = snap;
    if (!['failed', 'partial', 'cancelled'].includes(group.state)) {
      throw new AoinbError(
        'CONFLICT',
        `group ${groupId} is ${group.state}: only a failed, partial or cancelled group can be retried`,
      );
    }
    const again = snap.plan.filter((p) =>
      ['failed', 'skipped', 'cancelled'].includes(snap.views.get(p.key)?.status ?? ''),
    );
    const round = group.round + 1;
    const now = new Date().toISOString();
    const members: Record<string, MemberRecord> = {};
    for (const p of again) {
      const previousRun = Math.max(snap.builds.get(p.key)?.run ?? 0, snap.members.get(p.key)?.run ?? 0);
      members[p.key] = { phase: 'waiting', round, run: previousRun + 1, at: now };
    }
    const estimates = await memberEstimates(
      ctx.groups.store,
      ctx.config.farm.coordinator.groupDefaultBuildSeconds,
      again,
    );
    await ctx.groups.store.setPlan(groupId, reprioritize(snap.plan, new Set(Object.keys(members)), estimates));
    await ctx.groups.store.putMembers(groupId, members);
    await ctx.groups.store.transitionGroup(groupId, [group.state], 'queued', true, { round, cancelRequested: false }, [
      'finishedAt',
      'reason',
      'publishedAt',
    ]);
    ctx.logger.info({ groupId, round, members: again.length }, 'group retried');
    await advanceLocked(ctx, groupId);
    return { round, members: again.map((p) => p.key) };
  });
}
