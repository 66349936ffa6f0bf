import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDropCapabilities, runContainer, type ContainerRun } from '../host/nspawn.ts';

const depsScript = fileURLToPath(new URL('../toolbox/install-deps.sh', import.meta.url));

export interface DepsStep {
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

export type DepsOutcome = { ok: true } | { ok: false; reason: string; cancelled: boolean };

/**
 * Installs the build's dependencies with apt before any bundle code runs, in two
 * container runs of our own script: `download` with the network (apt only, no
 * maintainer script), then `install` in a private network, so that the build
 * itself (build.sh, with everything installed) never needs one.
 */
export async function installDependencies(step: DepsStep): Promise<DepsOutcome> {
  if (step.names.length === 0) return { ok: true };
  await mkdir(path.join(step.merged, 'buildroot/deps'), { recursive: true });
  await writeFile(path.join(step.merged, 'buildroot/deps/names'), `${step.names.join('\n')}\n`);
  await mkdir(path.join(step.merged, 'buildroot/toolbox'), { recursive: true });
  const script = path.join(step.merged, 'buildroot/toolbox/install-deps.sh');
  await copyFile(depsScript, script);
  await chmod(script, 0o755);
  for (const mode of ['download', 'install'] as const) {
    const run: ContainerRun = {
      root: step.merged,
      machine: `aoinb-deps-${step.buildId}`.slice(0, 64),
      command: ['/bin/bash', '/buildroot/toolbox/install-deps.sh', mode],
      chdir: '/buildroot',
      env: { DEBIAN_FRONTEND: 'noninteractive', ...(step.aptUpdate ? { AOINB_APT_UPDATE: '1' } : {}) },
      network: mode === 'download' ? 'host' : 'private',
      dropCapabilities: buildDropCapabilities,
      extraArgs: step.extraArgs,
      onLine: step.onLine,
      signal: step.signal,
    };
    const exit = await runContainer(run);
    if (exit.cancelled) return { ok: false, reason: 'cancelled', cancelled: true };
    if (exit.exitCode !== 0) {
      return {
        ok: false,
        reason: `build dependencies could not be installed (${mode} exited with status ${exit.exitCode}): ${step.names.join(' ')}`,
        cancelled: false,
      };
    }
  }
  return { ok: true };
}
