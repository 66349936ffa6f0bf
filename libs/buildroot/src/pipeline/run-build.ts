import path from 'node:path';
import { sourceListFor } from '@aoinb/config';
import { AoinbError, failureClassOfError, toAoinbError, type FailureClass } from '@aoinb/errors';
import type {
  BuildPhase,
  BuildRequest,
  BuildResult,
  BuildStatus,
  FetchedSource,
  ResourceSummary,
} from '../build-types.ts';
import { layoutOf, type BuildrootContext } from '../context.ts';
import { acquireLock } from '../host/file-lock.ts';
import { assertBaseosLoaded, baseosLockName } from '../layers/baseos.ts';
import { leaseInstance, type InstanceLease } from '../layers/instance.ts';
import { assertBuildId, createWorkspace, type Workspace } from '../layers/workspace.ts';
import { overlayVolatileSupport } from '../layers/volatile-support.ts';
import { destinationPolicyOf } from '../network/control-plane.ts';
import { fetchSources } from '../sources/fetch-sources.ts';
import { readBundleFacts } from './bundle-facts.ts';
import { openBuildLog } from './build-log.ts';
import { writeBuildRecord, recordFileFor } from './build-record.ts';
import { collectDebs } from './collect-debs.ts';
import { runDependencyStep } from './dependency-step.ts';
import { runBuildScript } from './run-build-script.ts';
import { stageBundle } from './stage-bundle.ts';

const noResources: ResourceSummary = {
  cpuSeconds: 0,
  peakMemoryBytes: 0,
  peakDiskBytes: 0,
  method: 'procfs',
  samples: [],
};

/** Times each phase; the figures go into the build record. */
class PhaseClock {
  readonly phases: Partial<Record<BuildPhase, number>> = {};
  async time<T>(phase: BuildPhase, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.phases[phase] = Math.round((this.phases[phase] ?? 0) + performance.now() - start);
    }
  }
}

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

/**
 * The seed's pipeline for one build: instance layer (refreshed when due), a
 * fresh workspace layer, bundle and toolbox under /buildroot, sources fetched
 * and verified on the host, build.sh under systemd-nspawn with every line logged,
 * .debs collected, and the workspace always discarded with every mount released.
 */
export async function runBuild(ctx: BuildrootContext, request: BuildRequest): Promise<BuildResult> {
  assertBuildId(request.buildId);
  const requestedAt = Date.now();
  const layout = layoutOf(ctx);
  const arch = request.arch ?? ctx.config.arch;
  const logger = ctx.logger.child({ buildId: request.buildId });
  const facts = await readBundleFacts(request.bundleDir, arch);
  const sourceList = await sourceListFor(ctx.config, request.branch);
  await assertBaseosLoaded(layout);

  const outputDir = request.outputDir ?? path.join(layout.outputDir, request.branch);
  const pkg = { name: facts.name, version: facts.version, arch: facts.packageArch };
  // build.sh failing because the work dir filled up is the host's fault, not the package's.
  let sawNoSpace = false;
  const log = await openBuildLog(path.join(layout.logsDir, request.branch, `${request.buildId}.log`), (line) => {
    if (!sawNoSpace && /No space left on device/i.test(line)) sawNoSpace = true;
    request.onLogLine?.(line);
  });
  const clock = new PhaseClock();
  const startedAt = new Date().toISOString();
  const held: Held[] = [];
  let workspace: Workspace | undefined;
  let status: BuildStatus = 'failed';
  let reason: string | undefined;
  let failureClass: FailureClass | undefined;
  let artifacts: BuildResult['artifacts'] = [];
  let resources = noResources;
  let sources: FetchedSource[] | undefined;
  log.line(`[aoinb] build ${request.buildId}: ${facts.name} ${facts.version} for ${arch} on branch ${request.branch}`);
  try {
    held.push(await acquireLock(layout.lock(baseosLockName), 'shared', request.signal));
    const lease: InstanceLease = await clock.time('instance_refresh', () =>
      leaseInstance(ctx, request.branch, sourceList, requestedAt, { onLine: log.line, signal: request.signal }).catch(
        (error: Error) => {
          throw new BuildFailure(
            `instance ${request.branch} could not be refreshed: ${error.message}`,
            failureClassOfError(error),
          );
        },
      ),
    );
    held.push(lease);
    workspace = await clock.time('mount', async () => {
      const support = await overlayVolatileSupport(layout);
      if (!support.volatile) log.line(`[aoinb] workspace mounted without overlay volatile: ${support.reason}`);
      return createWorkspace(layout, request.buildId, lease.lowers, { volatile: support.volatile });
    });
    await clock.time('prepare', () => stageBundle(workspace!.merged, request.bundleDir, request.extraAptSources));
    const fetched = await clock.time('source_fetch', () =>
      fetchSources(
        facts.sources,
        layout.sourceCache,
        path.join(workspace!.merged, 'buildroot/sources'),
        destinationPolicyOf(ctx.config),
        { signal: request.signal, onLine: log.line },
      ).catch((error) => {
        throw new BuildFailure(toAoinbError(error).message, failureClassOfError(error));
      }),
    );
    sources = fetched.map((s) => ({ name: s.name, cached: s.cached }));
    const deps = await clock.time('dependencies', () =>
      runDependencyStep({
        ctx,
        branch: request.branch,
        arch,
        instance: lease,
        workspace: workspace!,
        buildId: layout.hostScoped(request.buildId),
        names: facts.dependencies,
        extraAptSources: (request.extraAptSources ?? []).length > 0,
        onLine: log.line,
        signal: request.signal,
      }),
    );
    if (!deps.ok) throw new BuildFailure(deps.reason);
    // Released after the discard (finally below): the layer stays mounted until then.
    if (deps.layer) held.push(deps.layer);
    const outcome = await clock.time('build', () => runBuildScript(ctx, request, workspace!, facts, arch, log));
    resources = outcome.resources;
    if (outcome.status !== 'succeeded') {
      status = outcome.status;
      reason = outcome.reason;
      failureClass = outcome.failureClass === 'build' && sawNoSpace ? 'disk-full' : outcome.failureClass;
    } else {
      artifacts = await clock.time('collect', () => collectDebs(workspace!.merged, outputDir, facts.artifacts));
      status = 'succeeded';
    }
  } catch (error) {
    status = request.signal?.aborted ? 'cancelled' : 'failed';
    reason = request.signal?.aborted
      ? 'cancelled'
      : error instanceof BuildFailure || error instanceof AoinbError
        ? error.message
        : `host error: ${(error as Error).message}`;
    failureClass = request.signal?.aborted ? 'cancelled' : classOfPipelineError(error);
    if (!(error instanceof BuildFailure) && !(error instanceof AoinbError) && !request.signal?.aborted)
      logger.error({ err: error }, 'build aborted by a host error');
  } finally {
    if (workspace) await clock.time('discard', () => workspace!.discard());
    for (const lock of held.reverse()) await lock.release();
  }
  if (log.error && status === 'succeeded') {
    // A build whose log could not be kept is not a build anyone can trust or debug.
    status = 'failed';
    reason = `the build log could not be written: ${log.error.message}`;
    failureClass = failureClassOfError(log.error);
    artifacts = [];
  }
  const result: BuildResult = {
    buildId: request.buildId,
    status,
    ...(reason ? { reason } : {}),
    ...(status !== 'succeeded' ? { failureClass: failureClass ?? 'build' } : {}),
    package: pkg,
    branch: request.branch,
    artifacts,
    logFile: log.file,
    recordFile: recordFileFor(outputDir, pkg),
    startedAt,
    finishedAt: new Date().toISOString(),
    phases: clock.phases,
    resources,
    ...(sources ? { sources } : {}),
  };
  log.line(`[aoinb] ${status}${reason ? `: ${reason}` : ''}`);
  await log.close();
  await writeBuildRecord(result);
  return result;
}
