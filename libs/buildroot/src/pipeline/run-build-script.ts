import type { FailureClass } from '@aoinb/errors';
import type { BuildRequest, ResourceSummary } from '../build-types.ts';
import { layoutOf, type BuildrootContext } from '../context.ts';
import { buildDropCapabilities, runContainer, type ContainerExit } from '../host/nspawn.ts';
import type { Workspace } from '../layers/workspace.ts';
import { buildNetworkRunDir, openBuildNetwork } from '../network/build-network.ts';
import { destinationPolicyOf } from '../network/control-plane.ts';
import { buildLimitsFor } from '../resources/build-limits.ts';
import { createResourceSampler } from '../resources/resource-sampler.ts';
import type { BuildLog } from './build-log.ts';
import type { BundleFacts } from './bundle-facts.ts';

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

/** What ended build.sh, as the build's outcome. */
function outcomeOf(
  exit: ContainerExit,
  limitHit: string | undefined,
  cancelled: boolean,
  timeoutMs: number,
  resources: ResourceSummary,
) {
  // A limit first: an OOM kill also makes build.sh fail, and the limit is the reason.
  if (limitHit && !cancelled)
    return {
      status: 'failed' as const,
      reason: `killed: the build reached its ${limitHit}`,
      failureClass: limitClass(limitHit),
      resources,
    };
  if (exit.cancelled)
    return { status: 'cancelled' as const, reason: 'cancelled', failureClass: 'cancelled' as const, resources };
  if (exit.timedOut)
    return {
      status: 'failed' as const,
      reason: `timed out after ${Math.round(timeoutMs / 1000)} s`,
      failureClass: 'timeout' as const,
      resources,
    };
  if (exit.exitCode !== 0)
    return {
      status: 'failed' as const,
      reason: `build.sh exited with status ${exit.exitCode}`,
      failureClass: 'build' as const,
      resources,
    };
  return { status: 'succeeded' as const, resources };
}

/**
 * The build step of runBuild: the package's build.sh under systemd-nspawn in the workspace,
 * with its resource limits metered, its build network when asked for, and its timeout;
 * what ended it (a limit, a cancel, the timeout, its exit status) as the build's outcome.
 */
export async function runBuildScript(
  ctx: BuildrootContext,
  request: BuildRequest,
  workspace: Workspace,
  facts: BundleFacts,
  arch: string,
  log: BuildLog,
) {
  const limits = buildLimitsFor(ctx.config.build, facts.envreq);
  const limitStop = new AbortController();
  const hostId = layoutOf(ctx).hostScoped(request.buildId);
  const sampler = await createResourceSampler(`build-${hostId}`, workspace.upper, request.onSample, {
    limits,
    onLimit: (limit) => {
      log.line(`[aoinb] killing the build: it reached its ${limit}`);
      limitStop.abort();
    },
  });
  const timeoutMs = request.timeoutMs ?? ctx.config.build.timeoutMinutes * 60_000;
  const network = request.network
    ? await openBuildNetwork({
        buildId: hostId,
        runDir: buildNetworkRunDir,
        policy: destinationPolicyOf(ctx.config),
      })
    : undefined;
  if (network) log.line(`[aoinb] this build has a network: HTTP(S) through the host's checked proxy only`);
  sampler.start(ctx.config.build.sampleIntervalSeconds * 1000);
  const exit = await runContainer({
    root: workspace.merged,
    machine: `aoinb-${hostId}`,
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
  return outcomeOf(exit, sampler.limitHit, Boolean(request.signal?.aborted), timeoutMs, resources);
}

/** A memory limit is `out-of-memory`, a disk limit `disk-full`; the process limit is the package's own doing. */
function limitClass(limit: string): FailureClass {
  if (limit.startsWith('memory')) return 'out-of-memory';
  if (limit.startsWith('disk')) return 'disk-full';
  return 'build';
}
