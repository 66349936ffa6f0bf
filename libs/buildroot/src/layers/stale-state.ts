import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aoinb/logging';
import { mountsUnder, unmountAllUnder } from '../host/mount-table.ts';
import { isAlive, killAll, processesRootedUnder, type ProcessIdentity } from '../host/process-identity.ts';
import { removeDeadBuildNetwork } from '../network/build-network.ts';
import type { WorkLayout } from '../work-layout.ts';
import { discardDir, sweepTrash } from './discard.ts';

async function ownerOf(file: string): Promise<ProcessIdentity | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ProcessIdentity;
  } catch {
    return undefined;
  }
}

async function ownerIsDead(file: string): Promise<boolean> {
  const owner = await ownerOf(file);
  return !owner || !(await isAlive(owner));
}

/** Kills what a dead build left running in a folder, then releases its mounts. */
async function releaseDeadTree(dir: string): Promise<string[]> {
  await killAll(await processesRootedUnder(dir));
  return unmountAllUnder(dir);
}

/**
 * What a process killed with SIGKILL leaves behind, found and cleaned by the next
 * command: workspaces of dead builds (their containers, mounts and files), an
 * instance mounted by a dead refresh, staging folders of a dead base OS load,
 * and the trash. Folders owned by live processes are left alone.
 */
export async function recoverStaleState(
  layout: WorkLayout,
  logger: Logger,
): Promise<{ workspaces: string[]; mounts: string[] }> {
  const cleaned: string[] = [];
  const released: string[] = [];
  for (const id of await readdir(layout.workspacesDir).catch(() => [] as string[])) {
    const dirs = layout.workspace(id);
    if (!(await ownerIsDead(dirs.owner))) continue;
    released.push(...(await releaseDeadTree(dirs.dir)));
    await removeDeadBuildNetwork(layout.hostScoped(id));
    await discardDir(layout, dirs.dir);
    cleaned.push(id);
  }
  for (const branch of await readdir(layout.instancesDir).catch(() => [] as string[])) {
    const dirs = layout.instance(branch);
    if ((await mountsUnder(dirs.merged)).length === 0) continue;
    if (await ownerIsDead(path.join(dirs.dir, 'refresh-owner.json')))
      released.push(...(await releaseDeadTree(dirs.merged)));
  }
  // A dependency layer being built by a process that died: never renamed into place.
  for (const entry of await readdir(layout.depLayersDir).catch(() => [] as string[])) {
    const dir = path.join(layout.depLayersDir, entry);
    if (!entry.startsWith('.tmp-') || !(await ownerIsDead(path.join(dir, 'owner.json')))) continue;
    released.push(...(await releaseDeadTree(dir)));
    await discardDir(layout, dir);
  }
  for (const entry of await readdir(layout.root).catch(() => [] as string[])) {
    const pid = /^baseos\.new-(\d+)$/.exec(entry)?.[1];
    if (
      pid &&
      !(await readFile(`/proc/${pid}/stat`).then(
        () => true,
        () => false,
      ))
    ) {
      released.push(...(await releaseDeadTree(path.join(layout.root, entry))));
      await discardDir(layout, path.join(layout.root, entry));
    }
  }
  await sweepTrash(layout);
  if (cleaned.length > 0 || released.length > 0) {
    logger.warn(
      { workspaces: cleaned, mounts: released },
      'cleaned up after builds that died without releasing their layers',
    );
  }
  return { workspaces: cleaned, mounts: released };
}
