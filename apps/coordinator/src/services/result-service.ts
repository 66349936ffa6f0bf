import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AoinbError } from '@aoinb/errors';
import type { ArtifactRecord, BuildJobResult, BuildRecord, TaskRecord, TransitionRequest } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import type { BuiltDeb } from '../build-lifecycle.ts';
import { receiveUpload } from '../storage/receive-upload.ts';
import { endLog } from './build-log.ts';
import { refusalError } from './fencing.ts';
import { requireTask } from './task-service.ts';

/**
 * Publishes a successful build's debs before its state changes: a layer over
 * builds first (a group's repository), then the task's branch repository
 * unless that layer holds them back. Returns the branch they reached, if any.
 */
async function publishDebs(ctx: CoordinatorContext, task: TaskRecord, debs: BuiltDeb[]): Promise<string | undefined> {
  const { toBranch } = await ctx.lifecycle.publishing(task, debs);
  if (!toBranch) return undefined;
  await ctx.repo.publish(task.branch as string, debs);
  return task.branch;
}

/** What a .deb may be called: autobuild's `name_version_arch.deb`, nothing that leaves the folder. */
export const debNamePattern = /^[A-Za-z0-9][A-Za-z0-9.+~_-]*\.deb$/;

const maxArtifactBytes = 8 * 1024 * 1024 * 1024;

/** The run and attempt a worker call names, with the hash of the attempt key it presents. */
export interface AttemptCall {
  run: number;
  attempt: number;
  attemptKeyHash: string;
}

/** The build is running that run and attempt, under that key (one Lua check, see fenceScript); else the refusal. */
async function requireCurrent(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  call: AttemptCall,
  what: string,
  settleMs = 0,
): Promise<{ task: TaskRecord; build: BuildRecord }> {
  const task = await requireTask(ctx, taskId);
  if (!task.archs.includes(arch)) throw new AoinbError('NOT_FOUND', `task ${task.id} has no build for ${arch}`);
  const fence = await ctx.store.fence(task.id, arch, call, settleMs);
  if (fence.refusal) throw refusalError(ctx, what, { taskId, arch, run: call.run, attempt: call.attempt }, fence);
  const build = await ctx.store.getBuild(task.id, arch);
  if (!build) throw new AoinbError('NOT_FOUND', `task ${task.id} has no build for ${arch}`);
  return { task, build: { ...build, run: call.run, attempt: call.attempt } };
}

/**
 * `PUT /task/:id/artifact/:arch/:name?run=R&attempt=N`: stores one .deb of a
 * running attempt, sha256 checked; same bytes again is a no-op. Fenced before
 * any byte is stored; the bytes go to that run and attempt's own folder, which
 * only that attempt's result can publish.
 */
export async function receiveArtifact(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  name: string,
  call: AttemptCall,
  sha256: string,
  body: Readable,
): Promise<{ created: boolean; size: number }> {
  if (!debNamePattern.test(name))
    throw new AoinbError('USAGE', `artifact name ${JSON.stringify(name)} is not a .deb file name`);
  await requireCurrent(ctx, taskId, arch, call, `upload of ${name}`);
  const dir = ctx.layout.artifactDir(taskId, arch, call.run, call.attempt);
  const target = path.join(dir, name);
  const received = await receiveUpload(body, {
    tmpDir: ctx.layout.tmpDir,
    maxBytes: maxArtifactBytes,
    tooLargeCode: 'USAGE',
    what: `artifact ${name}`,
    expectedSha256: sha256,
  });
  const existing = await readFile(`${target}.sha256`, 'utf8').catch(() => undefined);
  if (existing?.trim() === received.sha256) {
    await rm(received.file, { force: true });
    return { created: false, size: received.size };
  }
  await mkdir(dir, { recursive: true });
  await rename(received.file, target);
  await writeFile(`${target}.sha256`, `${received.sha256}\n`);
  return { created: true, size: received.size };
}

/** Checks each reported artifact arrived with the reported sha256 and size; returns why not, or undefined. */
async function verifyArtifacts(
  ctx: CoordinatorContext,
  build: BuildRecord,
  result: BuildJobResult,
): Promise<string | undefined> {
  if (result.artifacts.length === 0) return 'the build produced no .deb';
  const dir = ctx.layout.artifactDir(build.taskId, build.arch, build.run, build.attempt);
  for (const a of result.artifacts) {
    if (!debNamePattern.test(a.name)) return `artifact name ${JSON.stringify(a.name)} is not a .deb file name`;
    const got = (await readFile(path.join(dir, `${a.name}.sha256`), 'utf8').catch(() => '')).trim();
    if (got !== a.sha256)
      return `artifact ${a.name} was not received intact (sha256 ${got || 'missing'}, reported ${a.sha256})`;
    const size = (await stat(path.join(dir, a.name)).catch(() => undefined))?.size;
    if (size !== a.size) return `artifact ${a.name} arrived with ${size ?? 'no'} bytes, the worker reported ${a.size}`;
  }
  return undefined;
}

/** Removes the artifacts of other (lost, superseded or earlier-run) attempts. */
async function dropOtherAttempts(ctx: CoordinatorContext, build: BuildRecord): Promise<void> {
  const root = ctx.layout.artifactsRoot(build.taskId, build.arch);
  const keep = path.basename(ctx.layout.artifactDir(build.taskId, build.arch, build.run, build.attempt));
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    if (entry !== keep) await rm(path.join(root, entry), { recursive: true, force: true });
  }
}

/** What the coordinator makes of a report: the state it records, why, and the artifacts it lists. */
interface Verdict {
  status: BuildJobResult['status'];
  reason: string | undefined;
  failureClass: BuildJobResult['failureClass'];
  artifacts: ArtifactRecord[];
}

/**
 * Publishes a verified success's debs; a repository that refuses them (same version, other contents) or
 * finds one unreadable (ARTIFACT_INVALID, the build's own output) makes the build a failure that says why.
 */
async function publishReported(
  ctx: CoordinatorContext,
  task: TaskRecord,
  build: BuildRecord,
  result: BuildJobResult,
): Promise<{ publishedTo: string | undefined; refused: string | undefined }> {
  const dir = ctx.layout.artifactDir(build.taskId, build.arch, build.run, build.attempt);
  const debs = result.artifacts.map((a) => ({ source: path.join(dir, a.name), name: a.name }));
  return publishDebs(ctx, task, debs).then(
    (publishedTo) => ({ publishedTo, refused: undefined }),
    (error: unknown) => {
      if (error instanceof AoinbError && (error.code === 'REPO_CONFLICT' || error.code === 'ARTIFACT_INVALID'))
        return { publishedTo: undefined, refused: error.message };
      throw error;
    },
  );
}

/** The report as the coordinator records it: a success stands only with every artifact intact and published. */
async function judgeReport(
  ctx: CoordinatorContext,
  task: TaskRecord,
  build: BuildRecord,
  result: BuildJobResult,
): Promise<Verdict> {
  const { status, failureClass } = result;
  // A cancelled build keeps the reason the cancel gave (who asked), not the worker's.
  const reason = status === 'cancelled' && build.reason ? build.reason : result.reason;
  if (status !== 'succeeded') return { status, reason, failureClass, artifacts: [] };
  const damaged = await verifyArtifacts(ctx, build, result);
  if (damaged) return { status: 'failed', reason: damaged, failureClass: 'infrastructure', artifacts: [] };
  const published = await publishReported(ctx, task, build, result);
  const uploadedAt = new Date().toISOString();
  const artifacts = result.artifacts.map((a) => ({
    ...a,
    uploadedAt,
    ...(published.publishedTo ? { publishedTo: published.publishedTo } : {}),
  }));
  if (published.refused) return { status: 'failed', reason: published.refused, failureClass: 'build', artifacts };
  return { status, reason: undefined, failureClass, artifacts };
}

/** The fields the final transition sets and clears. */
function finalFields(result: BuildJobResult, v: Verdict): Pick<TransitionRequest, 'set' | 'unset'> {
  return {
    set: {
      finishedAt: result.finishedAt,
      artifacts: v.artifacts,
      phases: result.phases,
      resources: result.resources,
      builder: result.builder,
      ...(result.startupMs !== undefined ? { startupMs: Math.round(result.startupMs) } : {}),
      ...(v.reason ? { reason: v.reason } : {}),
      ...(v.status !== 'succeeded'
        ? { failureClass: v.failureClass ?? (v.status === 'cancelled' ? 'cancelled' : 'build') }
        : {}),
    },
    unset: [...(v.reason ? [] : ['reason' as const]), ...(v.status === 'succeeded' ? ['failureClass' as const] : [])],
  };
}

/** The build as it ended, for the layers over builds. */
function endedBuild(build: BuildRecord, result: BuildJobResult, v: Verdict): BuildRecord {
  return {
    ...build,
    state: v.status,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    artifacts: v.artifacts,
    ...(result.resources ? { resources: result.resources } : {}),
    ...(result.builder ? { builder: result.builder } : {}),
    ...(v.reason ? { reason: v.reason } : {}),
  };
}

/**
 * `PUT /task/:id/result/:arch`: the worker's report. Fenced on the run, the
 * attempt and its key (before publishing, and again atomically with the state
 * change); a success whose artifacts did not all arrive becomes a failure. The
 * debs are published to the branch repository (index refreshed) before the
 * state changes, so a coordinator that dies in between publishes again when
 * the worker repeats the report. The same script ends the log. From the fence to that script the build is
 * marked settling (`[coordinator] settle_seconds`): no claim of a re-queued job builds it again while its debs are
 * published. A coordinator that dies mid-report lets the mark lapse (or the worker's repeated report renews it).
 */
export async function acceptResult(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  result: BuildJobResult,
  attemptKeyHash: string,
): Promise<BuildRecord['state']> {
  const call = { run: result.run, attempt: result.attempt, attemptKeyHash };
  // The settle mark: a job the stalled checker re-queued meanwhile is not claimed while this report publishes.
  const settleMs = ctx.config.farm.coordinator.settleSeconds * 1000;
  const { task, build } = await requireCurrent(ctx, taskId, arch, call, 'result', settleMs);
  const verdict = await judgeReport(ctx, task, build, result);
  const outcome = await ctx.store.transition({
    taskId: task.id,
    arch,
    run: result.run,
    archs: task.archs,
    from: ['running'],
    to: verdict.status,
    attempt: { equals: result.attempt },
    attemptKeyHash,
    ...finalFields(result, verdict),
  });
  if (!outcome.done)
    throw refusalError(ctx, 'result', { taskId, arch, run: result.run, attempt: result.attempt }, outcome);
  await endLog(ctx, task.id, arch, build.run, verdict.status, verdict.reason);
  await ctx.lifecycle.ended(task, endedBuild(build, result, verdict));
  await dropOtherAttempts(ctx, build).catch(() => undefined);
  return verdict.status;
}
