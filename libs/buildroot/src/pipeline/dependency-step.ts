import type { BuildrootContext } from '../context.ts';
import { layoutOf } from '../context.ts';
import { mountOverlay, unmountAllUnder } from '../host/mount-table.ts';
import { archiveFileName, holdAptCache, pruneAptCache } from '../layers/apt-cache.ts';
import {
  depLayerKey,
  evictDepLayers,
  leaseDepLayer,
  type DepLayerLease,
  type LayerBuilder,
  type ResolvedPackage,
} from '../layers/dep-layers.ts';
import type { InstanceLease } from '../layers/instance.ts';
import type { Workspace } from '../layers/workspace.ts';
import { recalledResolution, rememberResolution } from '../layers/dep-resolutions.ts';
import {
  installDependencies,
  resolveDependencies,
  type DepsOutcome,
  type DepsStep,
  type SharedArchives,
} from './install-deps.ts';
import { installWithRepositories } from './repository-deps.ts';

export interface DependencyStep {
  ctx: BuildrootContext;
  branch: string;
  arch: string;
  instance: InstanceLease;
  workspace: Workspace;
  buildId: string;
  names: string[];
  /** Source lines of apt repositories the host added (a group's fresh debs): their lists are per build. */
  extraAptSources: string[];
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

/** Success may hold a dependency layer the workspace now sits on; release it after the build. */
export type DependencyOutcome = (DepsOutcome & { ok: false }) | { ok: true; layer?: DepLayerLease };

function sharedArchives(ctx: BuildrootContext, used: () => string[]): SharedArchives | undefined {
  const budget = ctx.config.build.aptCacheMib * 2 ** 20;
  if (budget === 0) return undefined;
  const layout = layoutOf(ctx);
  return {
    hold: (mode) => holdAptCache(layout, mode),
    afterDownload: async () => void (await pruneAptCache(layout.aptCacheDir, budget, used())),
  };
}

/** apt's resolution of the names in this generation: recalled, or asked for once and remembered. */
async function resolveOnce(step: DependencyStep, deps: DepsStep) {
  const layout = layoutOf(step.ctx);
  const { generation } = step.instance;
  const recalled = await recalledResolution(layout, generation, step.arch, step.names);
  if (recalled) return { ok: true as const, packages: recalled };
  const resolved = await resolveDependencies(deps);
  if (resolved.ok) {
    step.onLine(`[aoinb] apt resolved the build dependencies to ${resolved.packages.length} package(s)`);
    const { branch, arch, names } = step;
    await rememberResolution(layout, { branch, generation, arch, names, packages: resolved.packages });
  }
  return resolved;
}

/**
 * The dependency step, before any bundle code runs. apt resolves the exact package
 * set in the workspace (no network, no change; once per instance generation and set of
 * names, then recalled); a dependency layer for (instance
 * generation, arch, that set) is mounted under the workspace's upper layer if it
 * exists, and otherwise built once from the instance and kept. Downloads go through
 * the host's shared archive cache. Builds with extra apt repositories install into
 * their own workspace, without a layer (their lists are theirs alone and change with
 * every publish), taking from and feeding the shared cache by SHA256 (repository-deps.ts).
 */
export async function runDependencyStep(step: DependencyStep): Promise<DependencyOutcome> {
  if (step.names.length === 0) return { ok: true };
  const { ctx, workspace } = step;
  const deps = {
    merged: workspace.merged,
    buildId: step.buildId,
    names: step.names,
    aptUpdate: false,
    extraArgs: ctx.config.build.nspawnArgs,
    onLine: step.onLine,
    signal: step.signal,
  };
  if (step.extraAptSources.length > 0) return installWithRepositories(ctx, deps, step.extraAptSources);
  let used: string[] = [];
  const archives = sharedArchives(ctx, () => used);
  if (ctx.config.build.depLayersMib === 0 || !step.instance.generation) return installDependencies(deps, archives);

  const resolved = await resolveOnce(step, deps);
  if (!resolved.ok) return resolved;
  if (resolved.packages.length === 0) {
    step.onLine('[aoinb] build dependencies: all already in the instance');
    return { ok: true };
  }
  used = resolved.packages.map(archiveFileName);
  return onDepLayer(step, deps, archives, resolved.packages);
}

/**
 * Mounts the dependency layer of `packages` under the workspace, building it once
 * from the instance when missing; an eviction meanwhile installs into the workspace instead.
 */
async function onDepLayer(
  step: DependencyStep,
  deps: DepsStep,
  archives: SharedArchives | undefined,
  packages: ResolvedPackage[],
): Promise<DependencyOutcome> {
  const { ctx, workspace, instance } = step;
  const layout = layoutOf(ctx);
  const key = depLayerKey(instance.generation, step.arch, packages);
  const meta = {
    key,
    branch: step.branch,
    generation: instance.generation,
    arch: step.arch,
    packages: packages.map((p) => `${p.name}=${p.version}`),
  };
  const build: LayerBuilder = async (dirs) => {
    step.onLine(`[aoinb] building dependency layer ${key} (${packages.length} packages)`);
    const { upper, work, merged } = dirs;
    await mountOverlay({ lowers: instance.lowers, upper, work, target: merged, volatile: workspace.volatile });
    try {
      return await installDependencies({ ...deps, merged: dirs.merged }, archives);
    } finally {
      await unmountAllUnder(dirs.merged);
    }
  };
  const result = await leaseDepLayer(layout, meta, build, step.signal);
  if ('failure' in result) return result.failure;
  if (!result.lease) {
    step.onLine('[aoinb] dependency layer evicted while being taken; installing into this workspace');
    return installDependencies(deps, archives);
  }
  try {
    await workspace.remount([result.lease.layer, ...instance.lowers]);
  } catch (error) {
    await result.lease.release();
    throw error;
  }
  if (result.lease.built) await evictDepLayers(layout, ctx.config.build.depLayersMib * 2 ** 20, key);
  else step.onLine(`[aoinb] reusing dependency layer ${key} (${packages.length} packages)`);
  return { ok: true, layer: result.lease };
}
