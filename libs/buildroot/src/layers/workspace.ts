import { mkdir, writeFile } from 'node:fs/promises';
import { mountOverlay } from '../host/mount-table.ts';
import { currentProcess } from '../host/process-identity.ts';
import type { WorkLayout } from '../work-layout.ts';
import { discardDir } from './discard.ts';

export interface Workspace {
  buildId: string;
  dir: string;
  upper: string;
  merged: string;
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
 * from a running one.
 */
export async function createWorkspace(layout: WorkLayout, buildId: string, lowers: string[]): Promise<Workspace> {
  assertBuildId(buildId);
  const dirs = layout.workspace(buildId);
  await mkdir(layout.workspacesDir, { recursive: true });
  await mkdir(dirs.dir).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'EEXIST' ? `a workspace for build ${buildId} already exists` : error.message);
  });
  const workspace: Workspace = {
    buildId,
    dir: dirs.dir,
    upper: dirs.upper,
    merged: dirs.merged,
    discard: () => discardDir(layout, dirs.dir),
  };
  try {
    await writeFile(dirs.owner, JSON.stringify(await currentProcess()));
    await Promise.all([mkdir(dirs.upper), mkdir(dirs.work), mkdir(dirs.merged)]);
    await mountOverlay({ lowers, upper: dirs.upper, work: dirs.work, target: dirs.merged });
    return workspace;
  } catch (error) {
    await workspace.discard();
    throw error;
  }
}
