import type { RetentionConfig } from '@aoinb/config';
import { isFinalBuildState, isFinalGroupState, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { removeGroup } from './delete-group.ts';
import { removeTask } from './delete-task.ts';

const dayMs = 24 * 3600 * 1000;

/** `now - days`, or undefined when the rule is off (0). */
export function cutoff(now: number, days: number): Date | undefined {
  return days > 0 ? new Date(now - days * dayMs) : undefined;
}

/** What a pass may do between two pages (renew the lease; stop when it was lost or the signal aborted). */
export type PageGate = () => Promise<void>;

/** Walks a zset scored by id, oldest first, a page at a time, until `visit` says stop. */
async function walkOldest(
  ctx: CoordinatorContext,
  key: string,
  page: number,
  gate: PageGate,
  visit: (ids: string[]) => Promise<boolean>,
): Promise<void> {
  let after = '-inf';
  for (;;) {
    const ids = await ctx.redis.zrangebyscore(key, after, '+inf', 'LIMIT', 0, page);
    if (ids.length === 0 || !(await visit(ids))) return;
    after = `(${ids[ids.length - 1]}`;
    await gate();
  }
}

function olderThan(iso: string | undefined, limit: Date | undefined): boolean {
  return limit !== undefined && iso !== undefined && iso < limit.toISOString();
}

/**
 * Finished tasks past `task_days` or beyond `max_finished_tasks` (oldest first),
 * and tasks never built past `created_task_days`. Group members go with their group.
 */
export async function pruneTasks(
  ctx: CoordinatorContext,
  rules: RetentionConfig,
  now: number,
  gate: PageGate,
): Promise<number> {
  const finishedBefore = cutoff(now, rules.taskDays);
  const createdBefore = cutoff(now, rules.createdTaskDays);
  let excess = rules.maxFinishedTasks > 0 ? (await ctx.redis.zcard(ctx.keys.tasks)) - rules.maxFinishedTasks : 0;
  // No task created after both cutoffs can be due by age: the walk stops there unless the count rule still bites.
  const ageHorizon = [finishedBefore, createdBefore].reduce<string>(
    (latest, d) => (d && d.toISOString() > latest ? d.toISOString() : latest),
    '',
  );
  let removed = 0;
  const due = (task: TaskRecord): { states: TaskRecord['state'][]; before?: Date } | undefined => {
    if (task.groupId) return undefined;
    if (task.state === 'created')
      return olderThan(task.createdAt, createdBefore) ? { states: ['created'], before: createdBefore } : undefined;
    if (!isFinalBuildState(task.state)) return undefined;
    if (excess > 0) return { states: [task.state] };
    return olderThan(task.finishedAt, finishedBefore) ? { states: [task.state], before: finishedBefore } : undefined;
  };
  await walkOldest(ctx, ctx.keys.tasks, rules.batch, gate, async (ids) => {
    for (const task of await ctx.store.getTasks(ids)) {
      if (!task) continue;
      if (excess <= 0 && !(task.createdAt < ageHorizon)) return false;
      const rule = due(task);
      if (!rule) continue;
      const outcome = await removeTask(ctx, task.id, { groupId: '', states: rule.states, finishedBefore: rule.before });
      if (outcome.result === 'deleted') {
        removed += 1;
        if (task.state !== 'created') excess -= 1;
      }
    }
    return true;
  });
  return removed;
}

/** Finished groups past `group_days` or beyond `max_finished_groups`, oldest first, with their member tasks. */
export async function pruneGroups(
  ctx: CoordinatorContext,
  rules: RetentionConfig,
  now: number,
  gate: PageGate,
): Promise<number> {
  const finishedBefore = cutoff(now, rules.groupDays);
  let excess = rules.maxFinishedGroups > 0 ? (await ctx.redis.zcard(ctx.keys.groups)) - rules.maxFinishedGroups : 0;
  if (!finishedBefore && excess <= 0) return 0;
  let removed = 0;
  await walkOldest(ctx, ctx.keys.groups, rules.batch, gate, async (ids) => {
    for (const group of await ctx.groups.store.getGroups(ids)) {
      if (excess <= 0 && !(finishedBefore && group.createdAt < finishedBefore.toISOString())) return false;
      if (!isFinalGroupState(group.state)) continue;
      const byCount = excess > 0;
      if (!byCount && !olderThan(group.finishedAt, finishedBefore)) continue;
      const outcome = await removeGroup(ctx, group.id, byCount ? undefined : finishedBefore);
      if (outcome.result === 'deleted') {
        removed += 1;
        excess -= 1;
      }
    }
    return true;
  });
  return removed;
}
