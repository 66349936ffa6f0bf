import { QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';
import {
  sleep,
  activeBuildMember,
  buildQueueName,
  isFinalBuildState,
  parseBuildJobId,
  stalledCheckerOptions,
  type BuildRecord,
  type StalledSettings,
  type TaskRecord,
  queueConnection,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { endLog } from './build-log.ts';
import { runUnderLease } from './lease-keeper.ts';
import { reconcileLogs, scanOpenLogs } from './log-reconcile.ts';
import { jobDataFor } from './task-service.ts';

/**
 * Makes sure no build is forgotten: for every queued or running build, its job
 * exists (re-added if a crash lost it), and a job that failed outside a
 * worker's report (stalled too often, worker unable to report) fails its build.
 */
export async function reconcileBuild(ctx: CoordinatorContext, taskId: string, arch: string): Promise<void> {
  const build = await ctx.store.getBuild(taskId, arch);
  const task = await ctx.store.getTask(taskId);
  if (!build || !task || isFinalBuildState(build.state)) {
    await ctx.redis.srem(ctx.keys.activeBuilds, activeBuildMember(taskId, arch));
    if (build && isFinalBuildState(build.state)) await endLog(ctx, taskId, arch, build.run, build.state, build.reason);
    return;
  }
  const job = ctx.dispatcher.archs.includes(arch) ? await ctx.dispatcher.getJob(arch, build.jobId) : undefined;
  if (!job) {
    if (!ctx.dispatcher.archs.includes(arch)) return;
    // A layer over builds owns the shape of its builds' jobs; any other build gets its plain job.
    if (!(await ctx.lifecycle.restoreJob(task, build))) await ctx.dispatcher.enqueue(jobDataFor(task, arch, build.run));
    ctx.logger.warn({ taskId, arch, jobId: build.jobId }, 'job of a live build was missing; added it again');
    return;
  }
  const state = await job.getState();
  if (build.state === 'running' && (state === 'waiting' || state === 'prioritized'))
    return requeueLostBuild(ctx, task, build);
  if (state !== 'failed' && state !== 'completed') return;
  await failLostJob(ctx, task, build, job);
}

/** The build's job failed, or completed without a report: the build fails (fenced on the attempt). */
export async function failLostJob(
  ctx: CoordinatorContext,
  task: TaskRecord,
  build: BuildRecord,
  job: Job,
): Promise<void> {
  const { taskId, arch } = build;
  const failed = (await job.getState()) === 'failed';
  const reason = failed ? `the job failed: ${job.failedReason}` : 'the worker finished without reporting a result';
  const outcome = await ctx.store.transition({
    taskId,
    arch,
    run: build.run,
    archs: task.archs,
    from: [build.state],
    to: 'failed',
    attempt: { equals: build.attempt },
    // A job BullMQ failed after its stalled checks is a host that stopped answering.
    set: { reason, failureClass: failed ? 'lost-host' : 'infrastructure', finishedAt: new Date().toISOString() },
    note: reason,
  });
  if (outcome.done) {
    ctx.logger.warn({ taskId, arch, reason }, 'build failed outside a worker report');
    await endLog(ctx, taskId, arch, build.run, 'failed', reason);
    await ctx.lifecycle.ended(task, { ...build, state: 'failed', reason });
  }
}

export async function reconcileAll(ctx: CoordinatorContext): Promise<void> {
  for (const { taskId, arch } of await ctx.store.activeBuilds()) {
    await reconcileBuild(ctx, taskId, arch).catch((error: Error) =>
      ctx.logger.warn({ taskId, arch, err: error.message }, 'reconcile failed'),
    );
  }
  await reconcileLogs(ctx, await ctx.store.unarchivedLogs());
}

/**
 * A running build whose job is back in the queue (its worker was lost): note it
 * in the log and show the build queued again, or finish the cancel it was
 * waiting for. Fenced on the attempt read before the job's state, so a worker
 * that claimed the job meanwhile wins.
 */
export async function requeueLostBuild(ctx: CoordinatorContext, task: TaskRecord, build: BuildRecord): Promise<void> {
  const base = {
    taskId: task.id,
    arch: build.arch,
    run: build.run,
    archs: task.archs,
    attempt: { equals: build.attempt },
  };
  if (build.cancelRequested && (await ctx.dispatcher.removeIfIdle(build.arch, build.jobId))) {
    const done = await ctx.store.transition({
      ...base,
      from: ['running'],
      to: 'cancelled',
      set: { failureClass: 'cancelled', finishedAt: new Date().toISOString() },
    });
    if (done.done) {
      await endLog(ctx, task.id, build.arch, build.run, 'cancelled', build.reason);
      await ctx.lifecycle.ended(task, { ...build, state: 'cancelled' });
    }
    return;
  }
  const moved = await ctx.store.transition({
    ...base,
    from: ['running'],
    to: 'queued',
    unset: ['builder', 'startedAt', 'startedAtMs'],
    note:
      `builder ${build.builder ?? '?'} stopped answering during attempt ${build.attempt}; ` +
      `the build is back in the queue`,
  });
  if (moved.done) {
    ctx.logger.warn(
      { taskId: task.id, arch: build.arch, builder: build.builder, attempt: build.attempt },
      'builder lost; job back in the queue',
    );
  }
}

/** The stalled checker moved a job back to the queue. */
async function onStalled(ctx: CoordinatorContext, arch: string, jobId: string): Promise<void> {
  const ids = parseBuildJobId(jobId);
  if (!ids) return;
  const [build, task] = await Promise.all([ctx.store.getBuild(ids.taskId, arch), ctx.store.getTask(ids.taskId)]);
  if (!build || !task || build.jobId !== jobId || build.state !== 'running') return;
  const state = await (await ctx.dispatcher.getJob(arch, jobId))?.getState();
  if (state === 'waiting' || state === 'prioritized') await requeueLostBuild(ctx, task, build);
}

export interface Recovery {
  close(): Promise<void>;
}

/**
 * One arch queue's watchers: BullMQ's stalled checker (a worker with no processor) and the queue's
 * events (a failed job reconciles its build; an active one tells the layers over builds).
 */
function watchQueue(ctx: CoordinatorContext, arch: string, settings: StalledSettings): Array<Worker | QueueEvents> {
  const checker = new Worker(
    buildQueueName(arch),
    null,
    stalledCheckerOptions(ctx.connection, settings, ctx.keys.prefix),
  );
  checker.on('stalled', (jobId) =>
    ctx.background.start('stalled job handling failed', { jobId }, () => onStalled(ctx, arch, jobId)),
  );
  checker.on('error', (error) => ctx.logger.warn({ arch, err: error.message }, 'stalled checker error'));
  void checker.startStalledCheckTimer();
  const listener = new QueueEvents(buildQueueName(arch), {
    connection: queueConnection(ctx.connection) as ConnectionOptions,
    prefix: ctx.keys.prefix,
  });
  listener.on('failed', ({ jobId }) => {
    const ids = parseBuildJobId(jobId);
    if (ids)
      ctx.background.start('failed job handling failed', { jobId }, () => reconcileBuild(ctx, ids.taskId, ids.arch));
  });
  listener.on('active', ({ jobId }) =>
    ctx.background.start('job start handling failed', { jobId }, () => ctx.lifecycle.jobStarted(arch, jobId)),
  );
  listener.on('error', (error) => ctx.logger.warn({ arch, err: error.message }, 'queue events error'));
  return [checker, listener];
}

/**
 * Runs, for every arch queue, BullMQ's stalled checker (a worker with no
 * processor), so a dead host's job comes back even when no other host of that
 * arch is busy; listens for failed jobs; and reconciles every live build at
 * start and every `intervalMs`.
 *
 * With two coordinators on one Redis: the stalled checkers coordinate through
 * BullMQ itself (its `stalled-check` key lets one checker per interval move a
 * job, and only that one hears `stalled`); the failed and active events reach
 * both, and what they do is fenced in Lua (a transition from the state and
 * attempt read, a job added under its deterministic id), so the second does
 * nothing. The periodic reconcile walks every live build, so it runs under the
 * `reconcile` lease: one coordinator at a time, the other taking over when it dies
 * (the pass at start runs without it).
 */
export async function startRecovery(ctx: CoordinatorContext, intervalMs = 15_000): Promise<Recovery> {
  const settings = {
    stalledIntervalMs: ctx.config.farm.coordinator.stalledIntervalSeconds * 1000,
    maxStalledCount: ctx.config.farm.coordinator.maxStalledCount,
  };
  const watchers = ctx.dispatcher.archs.flatMap((arch) => watchQueue(ctx, arch, settings));
  await reconcileLogs(ctx, await scanOpenLogs(ctx)).catch((error: Error) =>
    ctx.logger.warn({ err: error.message }, 'scan for logs without an end failed'),
  );
  // Once at start, lease or not: a coordinator restarted after a crash must not wait for its dead self's
  // lease to expire, and a pass is safe beside another coordinator's (the failed-job listener above runs
  // the same fenced reconcileBuild on both).
  await reconcileAll(ctx).catch((error: Error) => ctx.logger.warn({ err: error.message }, 'reconcile at start failed'));
  const loops = new AbortController();
  // The pass above was the first: the periodic ones start an interval later. A close before then takes no
  // lease: the keeper would go on renewing it until the coordinator's leases close.
  const loop = sleep(intervalMs, loops.signal).then(() =>
    loops.signal.aborted
      ? undefined
      : runUnderLease(ctx.leases.keeper('reconcile'), ctx.logger, loops.signal, () => reconcileAll(ctx), intervalMs),
  );
  return {
    async close() {
      loops.abort();
      await loop;
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
