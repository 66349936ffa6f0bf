import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AoinbError } from '@aoinb/errors';
import type { ArtifactRecord, BuildJobResult, BuildRecord, TaskRecord } from '@aoinb/farm-protocol';
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
): Promise<{ task: TaskRecord; build: BuildRecord }> {
  const task = await requireTask(ctx, taskId);
  if (!task.archs.includes(arch)) throw new AoinbError('NOT_FOUND', `task ${task.id} has no build for ${arch}`);
  const fence = await ctx.store.fence(task.id, arch, call);
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

/**
 * `PUT /task/:id/result/:arch`: the worker's report. Fenced on the run, the
 * attempt and its key (before publishing, and again atomically with the state
 * change); a success whose artifacts did not all arrive becomes a failure. The
 * debs are published to the branch repository (index refreshed) before the
 * state changes, so a coordinator that dies in between publishes again when
 * the worker repeats the report. The same script ends the log.
 */
export async function acceptResult(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  result: BuildJobResult,
  attemptKeyHash: string,
): Promise<BuildRecord['state']> {
  const call = { run: result.run, attempt: result.attempt, attemptKeyHash };
  const { task, build } = await requireCurrent(ctx, taskId, arch, call, 'result');
  let { status, reason, failureClass } = result;
  if (status === 'cancelled' && build.reason) reason = build.reason;
  const artifacts: ArtifactRecord[] = [];
  if (status === 'succeeded') {
    reason = await verifyArtifacts(ctx, build, result);
    if (reason) [status, failureClass] = ['failed', 'infrastructure'];
  }
  if (status === 'succeeded') {
    const dir = ctx.layout.artifactDir(build.taskId, build.arch, build.run, build.attempt);
    // A repository that refuses the debs (same version, other contents) makes the build a failure that says why.
    const published = await publishDebs(
      ctx,
      task,
      result.artifacts.map((a) => ({ source: path.join(dir, a.name), name: a.name })),
    ).then(
      (publishedTo) => ({ publishedTo, refused: undefined }),
      (error: unknown) => {
        // An unreadable deb (ARTIFACT_INVALID, the build's own output) is the build's failure too, with its reason.
        if (error instanceof AoinbError && (error.code === 'REPO_CONFLICT' || error.code === 'ARTIFACT_INVALID'))
          return { publishedTo: undefined, refused: error.message };
        throw error;
      },
    );
    const now = new Date().toISOString();
    for (const a of result.artifacts)
      artifacts.push({
        ...a,
        uploadedAt: now,
        ...(published.publishedTo ? { publishedTo: published.publishedTo } : {}),
      });
    if (published.refused) {
      [status, failureClass] = ['failed', 'build'];
      reason = published.refused;
    }
  }
  const outcome = await ctx.store.transition({
    taskId: task.id,
    arch,
    run: result.run,
    archs: task.archs,
    from: ['running'],
    to: status,
    attempt: { equals: result.attempt },
    attemptKeyHash,
    set: {
      finishedAt: result.finishedAt,
      artifacts,
      phases: result.phases,
      resources: result.resources,
      builder: result.builder,
      ...(result.startupMs !== undefined ? { startupMs: Math.round(result.startupMs) } : {}),
      ...(reason ? { reason } : {}),
      ...(status !== 'succeeded'
        ? { failureClass: failureClass ?? (status === 'cancelled' ? 'cancelled' : 'build') }
        : {}),
    },
    unset: [...(reason ? [] : ['reason' as const]), ...(status === 'succeeded' ? ['failureClass' as const] : [])],
  });
  if (!outcome.done)
    throw refusalError(ctx, 'result', { taskId, arch, run: result.run, attempt: result.attempt }, outcome);
  await endLog(ctx, task.id, arch, build.run, status, reason);
  await ctx.lifecycle.ended(task, {
    ...build,
    state: status,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    artifacts,
    ...(result.resources ? { resources: result.resources } : {}),
    ...(result.builder ? { builder: result.builder } : {}),
    ...(reason ? { reason } : {}),
  });
  await dropOtherAttempts(ctx, build).catch(() => undefined);
  return status;
}
