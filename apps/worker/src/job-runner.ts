import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Job } from 'bullmq';
import { buildStepMarker, type BuildResult } from '@aoinb/buildroot';
import { failureClassOfError, toAoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import {
  LogStreamWriter,
  type BuildJobData,
  type BuildJobResult,
  type FarmStore,
  type HostCapacity,
  type RedisClient,
} from '@aoinb/farm-protocol';
import { extractBundle } from './bundle-files.ts';
import { claimBuild, emptyResult } from './claim-build.ts';
import { checkWholeJob } from './claim-check.ts';
import type { CoordinatorClient } from './coordinator-client.ts';
import type { Executor } from './executor.ts';
import { putBackWaiting } from './job-put-back.ts';
import type { BuildObserver } from './metrics/build-observer.ts';
import { RunningJob, type AbortCause } from './running-job.ts';
import { runSequence } from './sequence-runner.ts';

export interface JobRunnerDeps {
  logger: Logger;
  redis: RedisClient;
  store: FarmStore;
  client: CoordinatorClient;
  executor: Executor;
  builderId: string;
  /** Per-build scratch folders (bundle, output) live under it. */
  jobsDir: string;
  maxBundleBytes: number;
  /** Told about each build's start, live samples, result, upload and end (metrics). */
  observer?: BuildObserver;
  /**
   * What this host offers builds now (with `networkBuilds`); the claim is refused when the build's needs
   * (or a sequence's, all its steps) ask for more. Unset: not checked.
   */
  capacity?: () => Promise<HostCapacity>;
  onStarted(job: RunningJob): void;
  onFinished(job: RunningJob): void;
}

type Outcome = Pick<BuildJobResult, 'status' | 'reason' | 'failureClass' | 'artifacts' | 'phases' | 'resources'>;

/**
 * Error codes that are the package's own fault (a bundle that does not parse or is too large). The farm's: a
 * bundle gone from the coordinator's storage (BUNDLE_MISSING), and bytes that do not match their sha256 here
 * (CHECKSUM_MISMATCH: the bundle's download, an artifact's upload), damaged in storage or on the way, before
 * the build ever saw them. A source's checksum is the pipeline's to class (runBuild's result).
 */
const packageFault = /^BUNDLE_(INVALID|UNSAFE|TOO_LARGE)$/;

/** `[a-z0-9-]` only, unique per attempt: what runBuild accepts as a build id. */
export function buildIdOf(jobId: string, attempt: number): string {
  return `${jobId}-a${attempt}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

function abortedOutcome(cause: AbortCause | undefined, timeoutMs: number): Outcome | undefined {
  if (cause === 'cancel')
    return {
      status: 'cancelled',
      reason: 'cancelled by request',
      failureClass: 'cancelled',
      artifacts: [],
      phases: {},
    };
  if (cause === 'timeout')
    return {
      status: 'failed',
      reason: `timed out: the job timeout is ${Math.round(timeoutMs / 1000)} s`,
      failureClass: 'timeout',
      artifacts: [],
      phases: {},
    };
  return undefined;
}

/** Runs one build job: claim, fetch the bundle, build, upload, report. */
export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  /** Throws CapacityRefusal, before anything is changed, when this host cannot take the whole job. */
  async process(job: Job<BuildJobData>, token: string, bullSignal?: AbortSignal): Promise<BuildJobResult> {
    await checkWholeJob(this.deps, job);
    if (job.data.sequence)
      return runSequence(this.deps, job, token, bullSignal, (step) => this.processStep(job, token, step, bullSignal));
    return this.processStep(job, token, undefined, bullSignal);
  }

  /** One build: the job's own, or one `step` of a sequential group's job. */
  async processStep(
    job: Job<BuildJobData>,
    token: string,
    step: BuildJobData | undefined,
    bullSignal?: AbortSignal,
  ): Promise<BuildJobResult> {
    const running = new RunningJob(job, token, step);
    const { data } = running;
    const log = new LogStreamWriter(
      this.deps.redis,
      this.deps.store.keys.log(data.taskId, data.arch, data.run),
      this.deps.logger,
    );
    const claimed = await claimBuild(this.deps, running, log);
    if (claimed) return claimed;
    const logger = this.deps.logger.child({ jobId: running.jobId, attempt: running.attempt });
    bullSignal?.addEventListener('abort', () => running.abort('cancel'), { once: true });
    const timer = data.timeoutMs > 0 ? setTimeout(() => running.abort('timeout'), data.timeoutMs) : undefined;
    this.deps.onStarted(running);
    this.deps.observer?.started(running.jobId, data.arch);
    const dir = path.join(this.deps.jobsDir, buildIdOf(running.buildKey, running.attempt));
    try {
      log.write(
        `[aoinb] ${data.package.name} ${data.package.version} for ${data.arch} on branch ${data.branch}: ` +
          `attempt ${running.attempt} on builder ${this.deps.builderId} (${hostname()})` +
          (data.network ? ', with a build network' : ''),
      );
      const outcome = await this.build(running, dir, log, logger);
      if (running.cause === 'shutdown') return await this.handBack(running, log);
      return await this.report(running, outcome, log);
    } finally {
      clearTimeout(timer);
      this.deps.onFinished(running);
      this.deps.observer?.finished(running.jobId);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Bundle, executor, uploads. Never throws: a failure is an outcome. */
  private async build(running: RunningJob, dir: string, log: LogStreamWriter, logger: Logger): Promise<Outcome> {
    const { data, signal } = running;
    try {
      const bundleDir = path.join(dir, 'bundle');
      const archive = path.join(dir, 'bundle.tar');
      await mkdir(dir, { recursive: true });
      await this.deps.client.downloadBundle(data.taskId, archive, data.bundleSha256, signal);
      await extractBundle(archive, bundleDir, this.deps.maxBundleBytes);
      const result = await this.deps.executor.run(
        {
          buildId: buildIdOf(running.buildKey, running.attempt),
          bundleDir,
          branch: data.branch,
          arch: data.arch,
          outputDir: path.join(dir, 'output'),
          extraAptSources: data.extraAptSources,
          network: data.network === true,
          signal,
          onLogLine: (line) => {
            if (running.startupMs === undefined && line.startsWith(buildStepMarker)) this.buildStepStarted(running);
            log.write(line);
          },
          onSample: (sample) => this.deps.observer?.sample(running.jobId, sample),
          timeoutMs: data.timeoutMs,
        },
        data.package,
      );
      this.deps.observer?.executed(running.jobId, result);
      return abortedOutcome(running.cause, data.timeoutMs) ?? (await this.upload(running, result));
    } catch (error) {
      if (running.cause === 'shutdown') return { status: 'cancelled', artifacts: [], phases: {} };
      const outcome = abortedOutcome(running.cause, data.timeoutMs) ?? {
        status: 'failed',
        reason: toAoinbError(error).message,
        failureClass: failureClassOfError(
          error,
          packageFault.test(toAoinbError(error).code) ? 'build' : 'infrastructure',
        ),
        artifacts: [],
        phases: {},
      };
      if (!running.cause) logger.warn({ err: outcome.reason }, 'build ended by an error');
      log.write(`[aoinb] ${outcome.status}: ${outcome.reason}`);
      return outcome;
    }
  }

  /** The package's own build step began: the farm's start-up time of this build, from the claim. */
  private buildStepStarted(running: RunningJob): void {
    running.startupMs = Math.round(performance.now() - running.claimedAt);
    this.deps.observer?.buildStepStarted?.(running.jobId, running.data.arch, running.startupMs);
  }

  private async upload(running: RunningJob, result: BuildResult): Promise<Outcome> {
    const outcome: Outcome = {
      status: result.status,
      reason: result.reason,
      ...(result.failureClass ? { failureClass: result.failureClass } : {}),
      artifacts: [],
      phases: result.phases,
      resources: result.resources,
    };
    if (result.status !== 'succeeded') return outcome;
    const start = performance.now();
    for (const artifact of result.artifacts) {
      await this.deps.client.uploadArtifact(
        running.data.taskId,
        running.data.arch,
        { run: running.data.run, attempt: running.attempt },
        running.attemptKey,
        artifact.file,
        artifact.name,
        artifact.sha256,
        running.signal,
      );
      outcome.artifacts.push({ name: artifact.name, size: artifact.size, sha256: artifact.sha256 });
    }
    outcome.phases = { ...outcome.phases, upload: Math.round(performance.now() - start) };
    this.deps.observer?.uploaded(running.jobId, outcome.phases.upload ?? 0);
    return outcome;
  }

  private async report(running: RunningJob, outcome: Outcome, log: LogStreamWriter): Promise<BuildJobResult> {
    const result: BuildJobResult = {
      ...emptyResult(this.deps, running, outcome.status),
      ...outcome,
      ...(running.startupMs !== undefined ? { startupMs: running.startupMs } : {}),
    };
    await log.flush();
    const accepted = await this.deps.client.reportResult(
      running.data.taskId,
      running.data.arch,
      running.attemptKey,
      result,
    );
    if (!accepted)
      this.deps.logger.warn(
        { jobId: running.jobId, run: running.data.run, attempt: running.attempt },
        'the coordinator kept a newer run or attempt; this result was dropped',
      );
    return result;
  }

  /** SIGTERM with `on_shutdown = "requeue"`: the build goes back to the queue for another worker. */
  private async handBack(running: RunningJob, log: LogStreamWriter): Promise<never> {
    const { data } = running;
    log.write(`[aoinb] builder ${this.deps.builderId} is shutting down: build handed back to the queue`);
    await log.flush();
    await this.deps.store.transition({
      taskId: data.taskId,
      arch: data.arch,
      run: data.run,
      archs: data.taskArchs,
      from: ['running'],
      to: 'queued',
      attempt: { equals: running.attempt },
      unset: ['builder', 'startedAt', 'startedAtMs'],
    });
    return putBackWaiting(running.job, running.token);
  }
}
