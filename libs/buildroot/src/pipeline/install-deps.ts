import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDropCapabilities, runContainer, type ContainerRun } from '../host/nspawn.ts';
import type { AptCacheHold } from '../layers/apt-cache.ts';
import type { ResolvedPackage } from '../layers/dep-layers.ts';

const depsScript = fileURLToPath(new URL('../toolbox/install-deps.sh', import.meta.url));

export interface DepsStep {
  /** The root apt runs in: the workspace, or a dependency layer being built. */
  merged: string;
  buildId: string;
  /** Package names from BUILDDEP/PKGDEP, checked by libs/bundle's dependency parser. */
  names: string[];
  /** Whether the host added apt repositories whose lists must be fetched first. */
  aptUpdate: boolean;
  extraArgs: string[];
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

/** The host's apt archive cache (layers/apt-cache.ts); without it apt uses the root's own folder. */
export interface SharedArchives {
  hold(mode: 'write' | 'read'): Promise<AptCacheHold>;
  /** After a download, still holding the cache for writing: mark what was used and prune. */
  afterDownload?: () => Promise<void>;
}

export type DepsOutcome = { ok: true } | { ok: false; reason: string; cancelled: boolean };

export type DepsMode = 'resolve' | 'plan' | 'download' | 'install';

export async function stageScript(step: DepsStep): Promise<void> {
  await mkdir(path.join(step.merged, 'buildroot/deps'), { recursive: true });
  await writeFile(path.join(step.merged, 'buildroot/deps/names'), `${step.names.join('\n')}\n`);
  await mkdir(path.join(step.merged, 'buildroot/toolbox'), { recursive: true });
  const script = path.join(step.merged, 'buildroot/toolbox/install-deps.sh');
  await copyFile(depsScript, script);
  await chmod(script, 0o755);
}

function depsRun(step: DepsStep, mode: DepsMode, binds: ContainerRun['binds']): ContainerRun {
  return {
    root: step.merged,
    machine: `aoinb-deps-${step.buildId}`,
    command: ['/bin/bash', '/buildroot/toolbox/install-deps.sh', mode],
    chdir: '/buildroot',
    env: {
      DEBIAN_FRONTEND: 'noninteractive',
      ...(step.aptUpdate ? { AOINB_APT_UPDATE: '1' } : {}),
      ...(binds?.length ? { AOINB_SHARED_ARCHIVES: '1' } : {}),
    },
    network: mode === 'download' || mode === 'plan' ? 'host' : 'private',
    dropCapabilities: buildDropCapabilities,
    extraArgs: step.extraArgs,
    binds,
    onLine: step.onLine,
    signal: step.signal,
  };
}

function failed(step: DepsStep, mode: string, exitCode: number | undefined): DepsOutcome {
  return {
    ok: false,
    reason:
      `build dependencies could not be installed (${mode} exited with ` +
      `status ${exitCode}): ${step.names.join(' ')}`,
    cancelled: false,
  };
}

/** Runs one mode of install-deps.sh (staged by stageScript) in the root. */
export async function runDepsMode(
  step: DepsStep,
  mode: DepsMode,
  binds: ContainerRun['binds'] = [],
): Promise<DepsOutcome> {
  const exit = await runContainer(depsRun(step, mode, binds));
  if (exit.cancelled) return { ok: false, reason: 'cancelled', cancelled: true };
  if (exit.exitCode !== 0) return failed(step, mode, exit.exitCode);
  return { ok: true };
}

/** `Inst NAME [OLD] (VERSION RELEASE [ARCH])`, as `apt-get --simulate` prints it. */
const instLine = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) (?:.* )?\[([^\]\s]+)\]\)/;

export function parseSimulation(text: string): ResolvedPackage[] {
  return text
    .split('\n')
    .map((line) => instLine.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ name: m[1]!, version: m[2]!, arch: m[3]! }));
}

/**
 * What apt would install for the names, with versions, resolved in the root
 * without a network or any change (`apt-get --simulate`). Empty when the root has
 * them all already.
 */
export async function resolveDependencies(
  step: DepsStep,
): Promise<{ ok: true; packages: ResolvedPackage[] } | (DepsOutcome & { ok: false })> {
  await stageScript(step);
  const exit = await runDepsMode(step, 'resolve');
  if (!exit.ok) return exit;
  return {
    ok: true,
    packages: parseSimulation(await readFile(path.join(step.merged, 'buildroot/deps/resolved'), 'utf8')),
  };
}

/**
 * Installs the build's dependencies with apt before any bundle code runs, in two
 * container runs of our own script: `download` with the network (apt only, no
 * maintainer script), then `install` in a private network, so that the build
 * itself (build.sh, with everything installed) never needs one.
 */
export async function installDependencies(step: DepsStep, archives?: SharedArchives): Promise<DepsOutcome> {
  if (step.names.length === 0) return { ok: true };
  await stageScript(step);
  for (const mode of ['download', 'install'] as const) {
    const hold = archives ? await archives.hold(mode === 'download' ? 'write' : 'read') : undefined;
    let exit;
    try {
      exit = await runDepsMode(step, mode, hold ? [hold.bind] : []);
      if (mode === 'download' && exit.ok) await archives?.afterDownload?.();
    } finally {
      await hold?.release();
    }
    if (!exit.ok) return exit;
  }
  return { ok: true };
}
