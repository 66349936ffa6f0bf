import path from 'node:path';
import { sourceListFor } from '@aoinb/config';
import { AoinbError, toAoinbError } from '@aoinb/errors';
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
import { buildDropCapabilities, runContainer } from '../host/nspawn.ts';
import { assertBaseosLoaded, baseosLockName } from '../layers/baseos.ts';
import { leaseInstance, type InstanceLease } from '../layers/instance.ts';
import { assertBuildId, createWorkspace, type Workspace } from '../layers/workspace.ts';
import { buildLimitsFor } from '../resources/build-limits.ts';
import { createResourceSampler } from '../resources/resource-sampler.ts';
import { buildNetworkRunDir, openBuildNetwork } from '../network/build-network.ts';
import { fetchSources } from '../sources/fetch-sources.ts';
import { readBundleFacts, type BundleFacts } from './bundle-facts.ts';
import { openBuildLog, type BuildLog } from './build-log.ts';
import { writeBuildRecord, recordFileFor } from './build-record.ts';
import { collectDebs } from './collect-debs.ts';
import { installDependencies } from './install-deps.ts';
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
class BuildFailure extends Error {}

/** The build's whole environment: what build.sh needs, nothing of the host's. */
function containerEnv(facts: BundleFacts, arch: string, keepDbg: boolean): Record<string, string> {
  return {
    AOINB_KEEP_DBG: keepDbg ? '1' : '0',
    AOINB_PKGNAME: facts.name,
    AOINB_PKGVER: facts.pkgver,
    AOINB_PKGREL: facts.pkgrel,
    AOINB_PKGEPOCH: facts.epoch,
    AOINB_ARCH: arch,
    AOINB_SUBDIR: facts.subdir,
    DEBIAN_FRONTEND: 'noninteractive',
  };
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
  const log = await openBuildLog(
    path.join(layout.logsDir, request.branch, `${request.buildId}.log`),
    request.onLogLine,
  );
  const clock = new PhaseClock();
  const startedAt = new Date().toISOString();
  const held: Held[] = [];
  let workspace: Workspace | undefined;
  let status: BuildStatus = 'failed';
  let reason: string | undefined;
  let artifacts: BuildResult['artifacts'] = [];
  let resources = noResources;
  let sources: FetchedSource[] | undefined;
  log.line(`[aoinb] build ${request.buildId}: ${facts.name} ${facts.version} for ${arch} on branch ${request.branch}`);
  try {
    held.push(await acquireLock(layout.lock(baseosLockName), 'shared', request.signal));
    const lease: InstanceLease = await clock.time('instance_refresh', () =>
      leaseInstance(ctx, request.branch, sourceList, requestedAt, { onLine: log.line, signal: request.signal }).catch(
        (error: Error) => {
          throw new BuildFailure(`instance ${request.branch} could not be refreshed: ${error.message}`);
        },
      ),
    );
    held.push(lease);
    workspace = await clock.time('mount', () => createWorkspace(layout, request.buildId, lease.lowers));
    await clock.time('prepare', () => stageBundle(workspace!.merged, request.bundleDir, request.extraAptSources));
    const fetched = await clock.time('source_fetch', () =>
      fetchSources(
        facts.sources,
        layout.sourceCache,
        path.join(workspace!.merged, 'buildroot/sources'),
        ctx.config.build.sources,
        { signal: request.signal, onLine: log.line },
      ).catch((error) => {
        throw new BuildFailure(toAoinbError(error).message);
      }),
    );
    sources = fetched.map((s) => ({ name: s.name, cached: s.cached }));
    const deps = await clock.time('dependencies', () =>
      installDependencies({
        merged: workspace!.merged,
        buildId: request.buildId,
        names: facts.dependencies,
        aptUpdate: (request.extraAptSources ?? []).length > 0,
        extraArgs: ctx.config.build.nspawnArgs,
        onLine: log.line,
        signal: request.signal,
      }),
    );
    if (!deps.ok) throw new BuildFailure(deps.reason);
    const outcome = await clock.time('build', () => runInWorkspace(ctx, request, workspace!, facts, arch, log));
    resources = outcome.resources;
    if (outcome.status !== 'succeeded') {
      status = outcome.status;
      reason = outcome.reason;
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
    if (!(error instanceof BuildFailure) && !(error instanceof AoinbError) && !request.signal?.aborted)
      logger.error({ err: error }, 'build aborted by a host error');
  } finally {
    if (workspace) await clock.time('discard', () => workspace!.discard());
    for (const lock of held.reverse()) await lock.release();
  }
  const result: BuildResult = {
    buildId: request.buildId,
    status,
    ...(reason ? { reason } : {}),
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

async function runInWorkspace(
  ctx: BuildrootContext,
  request: BuildRequest,
  workspace: Workspace,
  facts: BundleFacts,
  arch: string,
  log: BuildLog,
) {
  const limits = buildLimitsFor(ctx.config.build, facts.envreq);
  const limitStop = new AbortController();
  const sampler = await createResourceSampler(`build-${request.buildId}`, workspace.upper, request.onSample, {
    limits,
    onLimit: (limit) => {
      log.line(`[aoinb] killing the build: it reached its ${limit}`);
      limitStop.abort();
    },
  });
  const timeoutMs = request.timeoutMs ?? ctx.config.build.timeoutMinutes * 60_000;
  const network = request.network
    ? await openBuildNetwork({ buildId: request.buildId, runDir: buildNetworkRunDir, policy: ctx.config.build.sources })
    : undefined;
  if (network) log.line(`[aoinb] this build has a network: HTTP(S) through the host's checked proxy only`);
  sampler.start(ctx.config.build.sampleIntervalSeconds * 1000);
  const exit = await runContainer({
    root: workspace.merged,
    machine: `aoinb-${request.buildId}`.slice(0, 64),
    command: ['/bin/bash', '/buildroot/toolbox/build.sh'],
    chdir: '/buildroot',
    env: { ...containerEnv(facts, arch, ctx.config.build.keepDbg), ...network?.env },
    network: network ? { namespacePath: network.namespacePath } : 'private',
    dropCapabilities: buildDropCapabilities,
    extraArgs: ctx.config.build.nspawnArgs,
    enterCgroups: sampler.meter.enterFiles,
    onSpawn: (pid) => sampler.meter.setRootPid(pid),
    onLine: log.line,
    signal: AbortSignal.any([limitStop.signal, ...(request.signal ? [request.signal] : [])]),
    timeoutMs: timeoutMs || undefined,
  }).finally(async () => {
    for (const refusal of network?.refusals() ?? []) log.line(`[aoinb] network: refused ${refusal}`);
    await network?.close();
  });
  const resources = await sampler.stop();
  // A limit first: an OOM kill also makes build.sh fail, and the limit is the reason.
  if (sampler.limitHit && !request.signal?.aborted)
    return { status: 'failed' as const, reason: `killed: the build reached its ${sampler.limitHit}`, resources };
  if (exit.cancelled) return { status: 'cancelled' as const, reason: 'cancelled', resources };
  if (exit.timedOut)
    return { status: 'failed' as const, reason: `timed out after ${Math.round(timeoutMs / 1000)} s`, resources };
  if (exit.exitCode !== 0)
    return { status: 'failed' as const, reason: `build.sh exited with status ${exit.exitCode}`, resources };
  return { status: 'succeeded' as const, resources };
}
