import path from 'node:path';
import { sourceListFor } from '@aoinb/config';
import { AoinbError, failureClassOfError, toAoinbError, type FailureClass } from '@aoinb/errors';
import type { BuildRequest, BuildResult, BuildStatus, FetchedSource, ResourceSummary } from '../build-types.ts';
import { layoutOf, type BuildrootContext } from '../context.ts';
import type { WorkLayout } from '../work-layout.ts';
import { acquireLock } from '../host/file-lock.ts';
import { assertBaseosLoaded, baseosLockName } from '../layers/baseos.ts';
import { leaseInstance, type InstanceLease } from '../layers/instance.ts';
import { assertBuildId, createBuildWorkspace, type Workspace } from '../layers/workspace.ts';
import { destinationPolicyOf } from '../network/control-plane.ts';
import { fetchSources } from '../sources/fetch-sources.ts';
import { readBundleFacts, type BundleFacts } from './bundle-facts.ts';
import { openBuildLog, type BuildLog } from './build-log.ts';
import { writeBuildRecord, recordFileFor } from './build-record.ts';
import { collectDebs } from './collect-debs.ts';
import { runDependencyStep } from './dependency-step.ts';
import { PhaseClock } from './phase-clock.ts';
import { runBuildScript } from './run-build-script.ts';
import { stageBundle } from './stage-bundle.ts';

const noResources: ResourceSummary = {
  cpuSeconds: 0,
  peakMemoryBytes: 0,
  peakDiskBytes: 0,
  method: 'procfs',
  samples: [],
};

/** A failure that ends the build as a result (`failed`), not as an exception. */
class BuildFailure extends Error {
  constructor(
    message: string,
    readonly failureClass: FailureClass = 'build',
  ) {
    super(message);
  }
}

/** The class of an error that ended the pipeline: a full disk or no memory whatever the step. */
function classOfPipelineError(error: unknown): FailureClass {
  const byErrno = failureClassOfError(error, 'infrastructure');
  if (byErrno !== 'infrastructure') return byErrno;
  if (error instanceof BuildFailure) return error.failureClass;
  if (error instanceof AoinbError && error.code.startsWith('BUNDLE_')) return 'build';
  return 'infrastructure';
}

interface Held {
  release(): Promise<void>;
}

/** One build under way: what its steps share. */
interface Run {
  ctx: BuildrootContext;
  request: BuildRequest;
  layout: WorkLayout;
  arch: string;
  logger: BuildrootContext['logger'];
  facts: BundleFacts;
  sourceList: string;
  outputDir: string;
  log: BuildLog;
  clock: PhaseClock;
  /** Locks and leases, released in reverse order after the workspace is discarded. */
  held: Held[];
  workspace?: Workspace;
  /** Whether a log line said the disk is full. */
  sawNoSpace(): boolean;
}

/** What the build came to, filled in step by step. */
interface Outcome {
  status: BuildStatus;
  reason?: string;
  failureClass?: FailureClass;
  artifacts: BuildResult['artifacts'];
  resources: ResourceSummary;
  sources?: FetchedSource[];
}

/** Reads the bundle and the branch's source list, checks the base OS, opens the log. */
async function openRun(ctx: BuildrootContext, request: BuildRequest): Promise<Run> {
  const layout = layoutOf(ctx);
  const arch = request.arch ?? ctx.config.arch;
  const logger = ctx.logger.child({ buildId: request.buildId });
  const facts = await readBundleFacts(request.bundleDir, arch);
  const sourceList = await sourceListFor(ctx.config, request.branch);
  await assertBaseosLoaded(layout);
  const outputDir = request.outputDir ?? path.join(layout.outputDir, request.branch);
  // build.sh failing because the work dir filled up is the host's fault, not the package's.
  let sawNoSpace = false;
  const log = await openBuildLog(path.join(layout.logsDir, request.branch, `${request.buildId}.log`), (line) => {
    if (!sawNoSpace && /No space left on device/i.test(line)) sawNoSpace = true;
    request.onLogLine?.(line);
  });
  const clock = new PhaseClock();
  return {
    ctx,
    request,
    layout,
    arch,
    logger,
    facts,
    sourceList,
    outputDir,
    log,
    clock,
    held: [],
    sawNoSpace: () => sawNoSpace,
  };
}

/** Holds the base OS shared and leases the branch's instance layer (refreshed when due). */
async function leaseStep(run: Run, requestedAt: number): Promise<InstanceLease> {
  const { ctx, request, log } = run;
  run.held.push(await acquireLock(run.layout.lock(baseosLockName), 'shared', request.signal));
  const lease = await run.clock.time('instance_refresh', () =>
    leaseInstance(ctx, request.branch, run.sourceList, requestedAt, { onLine: log.line, signal: request.signal }).catch(
      (error: Error) => {
        throw new BuildFailure(
          `instance ${request.branch} could not be refreshed: ${error.message}`,
          failureClassOfError(error),
        );
      },
    ),
  );
  run.held.push(lease);
  return lease;
}

/** Mounts a fresh workspace over the instance and stages the bundle and toolbox in it. */
async function mountStep(run: Run, lease: InstanceLease): Promise<Workspace> {
  const { layout, request } = run;
  const workspace = await run.clock.time('mount', () =>
    createBuildWorkspace(layout, request.buildId, lease.lowers, run.log.line),
  );
  run.workspace = workspace;
  await run.clock.time('prepare', () => stageBundle(workspace.merged, request.bundleDir, request.extraAptSources));
  return workspace;
}

/** What the spec itself got wrong (a checksum, a refused or unknown source) is the package's fault. */
const bundleSourceFaults = new Set(['CHECKSUM_MISMATCH', 'SOURCE_FORBIDDEN', 'SOURCE_UNSUPPORTED']);

function classOfSourceError(error: unknown): FailureClass {
  if (error instanceof AoinbError && bundleSourceFaults.has(error.code)) return 'build';
  return failureClassOfError(error);
}

/** Fetches and verifies the sources on the host into the workspace; which came from the cache. */
async function fetchStep(run: Run, workspace: Workspace): Promise<FetchedSource[]> {
  const { request, log } = run;
  const fetched = await run.clock.time('source_fetch', () =>
    fetchSources(
      run.facts.sources,
      run.layout.sourceCache,
      path.join(workspace.merged, 'buildroot/sources'),
      destinationPolicyOf(run.ctx.config),
      { signal: request.signal, onLine: log.line },
    ).catch((error) => {
      throw new BuildFailure(toAoinbError(error).message, classOfSourceError(error));
    }),
  );
  return fetched.map((s) => ({ name: s.name, cached: s.cached }));
}

/** Installs the build dependencies (a dependency layer when they can be shared). */
async function dependencyStep(run: Run, lease: InstanceLease, workspace: Workspace): Promise<void> {
  const { ctx, request } = run;
  const deps = await run.clock.time('dependencies', () =>
    runDependencyStep({
      ctx,
      branch: request.branch,
      arch: run.arch,
      instance: lease,
      workspace,
      buildId: run.layout.hostScoped(request.buildId),
      names: run.facts.dependencies,
      extraAptSources: (request.extraAptSources ?? []).map((s) => s.line),
      onLine: run.log.line,
      signal: request.signal,
    }),
  );
  if (!deps.ok) throw new BuildFailure(deps.reason);
  // Released after the discard (releaseRun): the layer stays mounted until then.
  if (deps.layer) run.held.push(deps.layer);
}

/** Runs build.sh; when it succeeded, collects the .debs. */
async function buildStep(run: Run, workspace: Workspace, outcome: Outcome): Promise<void> {
  const { ctx, request, facts, arch, log } = run;
  const built = await run.clock.time('build', () => runBuildScript(ctx, request, workspace, facts, arch, log));
  outcome.resources = built.resources;
  if (built.status !== 'succeeded') {
    outcome.status = built.status;
    outcome.reason = built.reason;
    outcome.failureClass = built.failureClass === 'build' && run.sawNoSpace() ? 'disk-full' : built.failureClass;
    return;
  }
  outcome.artifacts = await run.clock.time('collect', () =>
    collectDebs(workspace.merged, run.outputDir, facts.artifacts),
  );
  outcome.status = 'succeeded';
}

/** The steps in order; a failure among them throws (turned into the outcome by failedOutcome). */
async function runSteps(run: Run, requestedAt: number, outcome: Outcome): Promise<void> {
  const lease = await leaseStep(run, requestedAt);
  const workspace = await mountStep(run, lease);
  outcome.sources = await fetchStep(run, workspace);
  await dependencyStep(run, lease, workspace);
  await buildStep(run, workspace, outcome);
}

/** What an error thrown by a step makes of the build: cancelled, failed with its reason, or a host error. */
function failedOutcome(run: Run, error: unknown): Pick<Outcome, 'status' | 'reason' | 'failureClass'> {
  if (run.request.signal?.aborted) return { status: 'cancelled', reason: 'cancelled', failureClass: 'cancelled' };
  const known = error instanceof BuildFailure || error instanceof AoinbError;
  if (!known) run.logger.error({ err: error }, 'build aborted by a host error');
  return {
    status: 'failed',
    reason: known ? error.message : `host error: ${(error as Error).message}`,
    failureClass: classOfPipelineError(error),
  };
}

/** Discards the workspace (every mount released), then releases the locks and leases. */
async function releaseRun(run: Run): Promise<void> {
  const { workspace } = run;
  if (workspace) await run.clock.time('discard', () => workspace.discard());
  for (const lock of run.held.reverse()) await lock.release();
}

/** The build's result, written to its record after the log is closed. */
async function finishRun(run: Run, outcome: Outcome, startedAt: string): Promise<BuildResult> {
  const { request, facts, log } = run;
  if (log.error && outcome.status === 'succeeded') {
    // A build whose log could not be kept is not a build anyone can trust or debug.
    outcome.status = 'failed';
    outcome.reason = `the build log could not be written: ${log.error.message}`;
    outcome.failureClass = failureClassOfError(log.error);
    outcome.artifacts = [];
  }
  const { status, reason, failureClass, artifacts, resources, sources } = outcome;
  const pkg = { name: facts.name, version: facts.version, arch: facts.packageArch };
  const result: BuildResult = {
    buildId: request.buildId,
    status,
    ...(reason ? { reason } : {}),
    ...(status !== 'succeeded' ? { failureClass: failureClass ?? 'build' } : {}),
    package: pkg,
    branch: request.branch,
    artifacts,
    logFile: log.file,
    recordFile: recordFileFor(run.outputDir, pkg),
    startedAt,
    finishedAt: new Date().toISOString(),
    phases: run.clock.phases,
    resources,
    ...(sources ? { sources } : {}),
  };
  log.line(`[aoinb] ${status}${reason ? `: ${reason}` : ''}`);
  await log.close();
  await writeBuildRecord(result);
  return result;
}

/**
 * The seed's pipeline for one build: instance layer (refreshed when due), a
 * fresh workspace layer, bundle and toolbox under /buildroot, sources fetched
 * and verified on the host, build.sh under systemd-nspawn with every line logged,
 * .debs collected, and the workspace always discarded with every mount released.
 */
export async function runBuild(ctx: BuildrootContext, request: BuildRequest): Promise<BuildResult> {
  assertBuildId(request.buildId);
  const requestedAt = Date.now();
  const run = await openRun(ctx, request);
  const startedAt = new Date().toISOString();
  const { facts } = run;
  run.log.line(
    `[aoinb] build ${request.buildId}: ${facts.name} ${facts.version} for ${run.arch} on branch ${request.branch}`,
  );
  const outcome: Outcome = { status: 'failed', artifacts: [], resources: noResources };
  try {
    await runSteps(run, requestedAt, outcome);
  } catch (error) {
    Object.assign(outcome, failedOutcome(run, error));
  } finally {
    await releaseRun(run);
  }
  return finishRun(run, outcome, startedAt);
}
