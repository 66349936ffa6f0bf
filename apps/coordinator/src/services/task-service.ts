import { rm } from 'node:fs/promises';
import { assertBranchName, sourceListFor } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import { PROTOCOL_VERSION } from '@aoinb/farm-contract';
import {
  buildJobId,
  type BuildJobData,
  type BuildNeeds,
  type BuildRecord,
  type IdempotentAnswer,
  type LearnedRequirement,
  type TaskRecord,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext, Principal } from '../context.ts';
import { buildNeeds } from '../placement/build-needs.ts';
import { deleteFinishedTask } from '../retention/delete-task.ts';
import { requireBundleArchive } from './bundle-archive.ts';
import { assertNetworkAllowed } from './network-policy.ts';

/** Who a call without a principal is (in-process callers); never granted a network. */
const anonymous: Principal = { name: 'anonymous', role: 'maintainer' };

function isFinalTaskState(state: string): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

export async function requireTask(ctx: CoordinatorContext, taskId: string): Promise<TaskRecord> {
  const task = /^\d+$/.test(taskId) ? await ctx.store.getTask(taskId) : undefined;
  if (!task) throw new AoinbError('NOT_FOUND', `task ${taskId} does not exist`);
  return task;
}

/** The job payload of one run of one arch of a task. */
export function jobDataFor(task: TaskRecord, arch: string, run: number): BuildJobData {
  if (!task.bundle || !task.branch) throw new AoinbError('CONFLICT', `task ${task.id} has no bundle or no branch`);
  return {
    protocol: PROTOCOL_VERSION,
    taskId: task.id,
    arch,
    run,
    taskArchs: task.archs,
    branch: task.branch,
    package: { name: task.bundle.packageName, version: task.bundle.version, noarch: task.bundle.noarch },
    bundleSha256: task.bundle.sha256,
    bundleSize: task.bundle.size,
    timeoutMs: task.timeoutMs,
    ...(task.network ? { network: true } : {}),
  };
}

export function freshBuild(
  taskId: string,
  arch: string,
  run: number,
  jobId = buildJobId(taskId, arch, run),
  placement: { needs?: BuildNeeds; learned?: LearnedRequirement } = {},
): BuildRecord {
  return {
    taskId,
    arch,
    state: 'queued',
    run,
    jobId,
    attempt: 0,
    cancelRequested: false,
    queuedAt: new Date().toISOString(),
    artifacts: [],
    ...placement,
  };
}

/** A fresh build with what a host needs to take it (ENVREQ and the learned requirement, docs/placement.md). */
export async function placedBuild(
  ctx: CoordinatorContext,
  task: TaskRecord,
  arch: string,
  run: number,
  jobId?: string,
): Promise<BuildRecord> {
  return freshBuild(task.id, arch, run, jobId, await buildNeeds(ctx, task, arch));
}

/**
 * A new task. `answer` (given an Idempotency-Key) builds the route's answer
 * from the new id; it is recorded with the create, in one script.
 */
export async function createTask(
  ctx: CoordinatorContext,
  by: Principal,
  branch?: string,
  answer?: (taskId: string) => IdempotentAnswer | undefined,
): Promise<TaskRecord> {
  if (branch !== undefined) await checkBranch(ctx, branch);
  const now = new Date().toISOString();
  const task: TaskRecord = {
    id: await ctx.store.nextTaskId(),
    state: 'created',
    createdAt: now,
    updatedAt: now,
    createdBy: by.name,
    archs: [],
    timeoutMs: 0,
    ...(branch ? { branch } : {}),
  };
  if (!(await ctx.store.createTask(task, answer?.(task.id))))
    throw new AoinbError('IDEMPOTENCY_IN_PROGRESS', 'the Idempotency-Key of this request was taken over meanwhile');
  return task;
}

async function checkBranch(ctx: CoordinatorContext, branch: string): Promise<void> {
  assertBranchName(branch);
  await sourceListFor(ctx.config, branch);
}

function requireCreated(ctx: CoordinatorContext, task: TaskRecord, what: string): void {
  ctx.lifecycle.checkDirectChange(task, `${what} only`);
  if (task.state !== 'created') {
    throw new AoinbError(
      'CONFLICT',
      `task ${task.id} is ${task.state}: ${what} only before PUT /task/${task.id}/build (retry with POST ` +
        `/task/${task.id}/retry, or create a new task)`,
    );
  }
}

export async function setBranch(ctx: CoordinatorContext, taskId: string, branch: string): Promise<TaskRecord> {
  const task = await requireTask(ctx, taskId);
  requireCreated(ctx, task, 'the branch can be set');
  await checkBranch(ctx, branch);
  const outcome = await ctx.store.updateTask(task.id, ['created'], { branch });
  if (!outcome.done)
    requireCreated(
      ctx,
      { ...task, state: outcome.state || task.state, groupId: outcome.groupId },
      'the branch can be set',
    );
  return { ...task, branch };
}

export interface StartOptions {
  /** Build only these of the allowed archs. */
  archs?: string[];
  timeoutSeconds?: number;
  /** Ask for a build network: the token `by` must be allowed it (`[coordinator] network_builds`). */
  network?: boolean;
  by?: Principal;
}

function targetsOf(ctx: CoordinatorContext, task: TaskRecord, options: StartOptions): string[] {
  const bundle = task.bundle!;
  const configured = ctx.dispatcher.archs;
  let targets = bundle.targets.filter((a) => configured.includes(a));
  if (options.archs) {
    const unknown = options.archs.filter((a) => !targets.includes(a));
    if (unknown.length > 0)
      throw new AoinbError(
        'ARCH_NOT_ALLOWED',
        `task ${task.id}: ${unknown.join(', ')} not among the archs ${bundle.packageName} may build on here ` +
          `(${targets.join(', ') || 'none'})`,
      );
    targets = targets.filter((a) => options.archs!.includes(a));
  }
  if (targets.length === 0) {
    throw new AoinbError(
      'ARCH_NOT_ALLOWED',
      `task ${task.id}: the FAIL_ARCH/ALLOW_ARCH filters of ${bundle.packageName} allow none of this farm's ` +
        `archs (${configured.join(', ')})`,
    );
  }
  return targets;
}

/** `PUT /task/:id/build`: checks the task is complete, then queues one job per target arch. */
export async function startBuild(
  ctx: CoordinatorContext,
  taskId: string,
  options: StartOptions = {},
): Promise<TaskRecord> {
  const task = await requireTask(ctx, taskId);
  requireCreated(ctx, task, 'a build can be started');
  if (!task.bundle)
    throw new AoinbError('CONFLICT', `task ${task.id} has no bundle yet: PUT /task/${task.id}/build_bundle first`);
  if (!task.branch)
    throw new AoinbError('CONFLICT', `task ${task.id} has no branch yet: PUT /task/${task.id}/branch first`);
  await checkBranch(ctx, task.branch);
  if (options.network)
    assertNetworkAllowed(ctx.config.farm.coordinator.networkBuilds, options.by ?? anonymous, `task ${task.id}`);
  const network = options.network === true;
  const archs = targetsOf(ctx, task, options);
  const limitMs = ctx.config.farm.coordinator.jobTimeoutMinutes * 60_000;
  const timeoutMs = options.timeoutSeconds ? Math.min(options.timeoutSeconds * 1000, limitMs) : limitMs;
  const started: TaskRecord = { ...task, archs, timeoutMs, state: 'queued', network };
  const queued = await ctx.store.queueBuilds(
    task,
    ['created'],
    [],
    { archs, timeoutMs, network },
    await Promise.all(archs.map((a) => placedBuild(ctx, started, a, 1))),
  );
  if (queued === 'uploading')
    throw new AoinbError(
      'CONFLICT',
      `task ${task.id}: a bundle upload is in progress; PUT /task/${task.id}/build again when it has finished`,
    );
  if (queued !== 'done')
    throw new AoinbError('CONFLICT', `task ${task.id} changed state meanwhile; look at GET /task/${task.id}/status`);
  for (const arch of archs) await ctx.dispatcher.enqueue(jobDataFor(started, arch, 1));
  return started;
}

/**
 * `DELETE /task/:id`: a task never built (still `created`) goes, with its uploaded
 * bundle; a finished one goes for an admin (retention/delete-task.ts); a queued
 * or running one is refused (cancel it first).
 */
export async function deleteTask(ctx: CoordinatorContext, taskId: string, by: Principal): Promise<void> {
  if (!/^\d+$/.test(taskId)) throw new AoinbError('NOT_FOUND', `task ${taskId} does not exist`);
  const outcome = await ctx.store.deleteCreatedTask(taskId);
  if (isFinalTaskState(outcome.state)) return deleteFinishedTask(ctx, taskId, by);
  if (outcome.state === '') throw new AoinbError('NOT_FOUND', `task ${taskId} does not exist`);
  if (outcome.groupId)
    throw new AoinbError(
      'CONFLICT',
      `task ${taskId} belongs to group ${outcome.groupId}: it goes with its group (POST ` +
        `/group/${outcome.groupId}/cancel)`,
    );
  if (!outcome.deleted)
    throw new AoinbError(
      'CONFLICT',
      `task ${taskId} is ${outcome.state}: a task can be deleted before its build or once it finished; ` +
        `cancel it first with POST /task/${taskId}/cancel`,
    );
  await rm(ctx.layout.taskDir(taskId), { recursive: true, force: true });
}

/** `POST /task/:id/retry`: a new run of every failed or cancelled arch (new job, new log). */
export async function retryTask(ctx: CoordinatorContext, taskId: string, by: Principal): Promise<TaskRecord> {
  const task = await requireTask(ctx, taskId);
  ctx.lifecycle.checkDirectChange(task, 'a retry goes');
  // A new run is a new request for the network: the policy of today, and the token retrying, decide.
  if (task.network) assertNetworkAllowed(ctx.config.farm.coordinator.networkBuilds, by, `task ${task.id}`);
  if (task.state !== 'failed' && task.state !== 'cancelled')
    throw new AoinbError(
      'CONFLICT',
      `task ${task.id} is ${task.state}: only a failed or cancelled task can be retried`,
    );
  if (task.archs.length === 0)
    throw new AoinbError(
      'CONFLICT',
      `task ${task.id} was cancelled before it was built: nothing to retry; ` +
        `PUT /task/${task.id}/build is not possible either, create a new task`,
    );
  // A finished task's bundle may have gone (retention's bundle_days): a new run could only fail fetching it.
  await requireBundleArchive(ctx, task);
  const again = (await ctx.store.getBuilds(task.id, task.archs)).filter(
    (b) => b.state === 'failed' || b.state === 'cancelled',
  );
  const builds = await Promise.all(again.map((b) => placedBuild(ctx, task, b.arch, b.run + 1)));
  const queued = await ctx.store.queueBuilds(task, ['failed', 'cancelled'], ['failed', 'cancelled'], {}, builds);
  if (queued !== 'done')
    throw new AoinbError('CONFLICT', `task ${task.id} changed state meanwhile; look at GET /task/${task.id}/status`);
  for (const b of builds) await ctx.dispatcher.enqueue(jobDataFor(task, b.arch, b.run));
  return { ...task, state: 'queued' };
}
