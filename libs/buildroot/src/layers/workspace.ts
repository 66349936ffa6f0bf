import { mkdir, rm, writeFile } from 'node:fs/promises';
import { mountOverlay, unmountAllUnder } from '../host/mount-table.ts';
import { currentProcess } from '../host/process-identity.ts';
import type { WorkLayout } from '../work-layout.ts';
import { discardDir } from './discard.ts';
import { overlayVolatileSupport } from './volatile-support.ts';

export interface Workspace {
  buildId: string;
  dir: string;
  upper: string;
  merged: string;
  /** Mounted with overlay `volatile` (no syncs; see volatile-support.ts). */
  volatile: boolean;
  /** Mounts the same upper layer again over other lower layers (e.g. with a dependency layer added). */
  remount(lowers: string[]): Promise<void>;
  discard(): Promise<void>;
}

const buildIdPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function assertBuildId(buildId: string): void {
  if (!buildIdPattern.test(buildId))
    throw new Error(`build id ${JSON.stringify(buildId)} must match ${buildIdPattern}`);
}

/**
 * A fresh, throw-away top layer for one build over the branch instance and the
 * base OS. The owner file lets a later process tell a dead build's leftovers
 * from a running one. `volatile` where the kernel has it: nothing in a
 * workspace outlives the build, so its upper layer is never synced.
 */
export async function createWorkspace(
  layout: WorkLayout,
  buildId: string,
  lowers: string[],
  options: { volatile?: boolean } = {},
): Promise<Workspace> {
  assertBuildId(buildId);
  const dirs = layout.workspace(buildId);
  await mkdir(layout.workspacesDir, { recursive: true });
  await mkdir(dirs.dir).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'EEXIST' ? `a workspace for build ${buildId} already exists` : error.message);
  });
  const volatile = options.volatile ?? false;
  const mount = (over: string[]) =>
    mountOverlay({ lowers: over, upper: dirs.upper, work: dirs.work, target: dirs.merged, volatile });
  const workspace: Workspace = {
    buildId,
    dir: dirs.dir,
    upper: dirs.upper,
    merged: dirs.merged,
    volatile,
    async remount(over) {
      await unmountAllUnder(dirs.merged);
      // A volatile overlay leaves work/work/incompat/volatile behind, and the kernel
      // refuses to mount that workdir again until it is removed (overlayfs.rst).
      await rm(dirs.work, { recursive: true, force: true });
      await mkdir(dirs.work);
      await mount(over);
    },
    discard: () => discardDir(layout, dirs.dir, { detach: dirs.merged }),
  };
  try {
    await writeFile(dirs.owner, JSON.stringify(await currentProcess()));
    await Promise.all([mkdir(dirs.upper), mkdir(dirs.work), mkdir(dirs.merged)]);
    await mount(lowers);
    return workspace;
  } catch (error) {
    await workspace.discard();
    throw error;
  }
}

/**
 * A build's workspace, `volatile` when this host's kernel has it (volatile-support.ts);
 * where it does not, mounted as before, and `onLine` (the build log) says why.
 */
export async function createBuildWorkspace(
  layout: WorkLayout,
  buildId: string,
  lowers: string[],
  onLine: (line: string) => void,
): Promise<Workspace> {
  const support = await overlayVolatileSupport(layout);
  if (!support.volatile) onLine(`[aoinb] workspace mounted without overlay volatile: ${support.reason}`);
  return createWorkspace(layout, buildId, lowers, { volatile: support.volatile });
}
