import { AoinbError } from '@aoinb/errors';
import { isFinalBuildState, publishCancel, type BuildRecord, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext, Principal } from '../context.ts';
import { endLog } from './build-log.ts';
import { requireTask } from './task-service.ts';

/** `POST /task/:id/cancel`: queued builds are cancelled at once, running ones are told to stop. */
export async function cancelTask(ctx: CoordinatorContext, taskId: string, by: Principal): Promise<void> {
  const task = await requireTask(ctx, taskId);
  ctx.lifecycle.checkDirectChange(task, 'a cancel goes');
  if (['succeeded', 'failed', 'cancelled'].includes(task.state))
    throw new AoinbError('CONFLICT', `task ${task.id} is already ${task.state}`);
  const reason = `cancelled by ${by.name}`;
  if (task.archs.length === 0) {
    const outcome = await ctx.store.updateTask(task.id, ['created'], {}, 'cancelled');
    if (outcome.done) return;
    if (outcome.state === 'cancelled') throw new AoinbError('CONFLICT', `task ${task.id} is already cancelled`);
    return cancelTask(ctx, taskId, by);
  }
  for (const build of await ctx.store.getBuilds(task.id, task.archs))
    if (await cancelBuild(ctx, task, build, reason))
      await ctx.lifecycle.ended(task, { ...build, state: 'cancelled', reason });
}

/**
 * A queued build is cancelled at once (its job removed unless a worker holds
 * it; true); a running one is told to stop: the flag and the message name the
 * run and attempt read, so a worker that claimed meanwhile is asked again,
 * never a worker of another run (its worker reports it cancelled).
 */
export async function cancelBuild(
  ctx: CoordinatorContext,
  task: TaskRecord,
  build: BuildRecord,
  reason: string,
): Promise<boolean> {
  let current: BuildRecord | undefined = build;
  for (let tries = 0; current && tries < 5 && !isFinalBuildState(current.state); tries += 1) {
    const base = { taskId: task.id, arch: current.arch, run: current.run, archs: task.archs };
    const queued = await ctx.store.transition({
      ...base,
      from: ['queued'],
      to: 'cancelled',
      set: { reason, finishedAt: new Date().toISOString() },
    });
    if (queued.done) {
      await ctx.dispatcher.removeIfIdle(current.arch, current.jobId);
      await endLog(ctx, task.id, current.arch, current.run, 'cancelled', reason);
      return true;
    }
    const running = await ctx.store.transition({
      ...base,
      from: ['running'],
      attempt: { equals: current.attempt },
      set: { cancelRequested: true, reason },
    });
    if (running.done) {
      const { arch, jobId, run, attempt } = current;
      await publishCancel(ctx.redis, { taskId: task.id, arch, jobId, run, attempt, reason }, ctx.keys);
      return false;
    }
    if (running.refusal === 'run' || running.refusal === 'gone') return false;
    current = await ctx.store.getBuild(task.id, current.arch);
  }
  return false;
}
