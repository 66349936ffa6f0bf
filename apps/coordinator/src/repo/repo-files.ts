import { copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aoinb/logging';

/** File names the repository serves: debs, the index files and the public key. */
export const repoFilePattern = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

/** A temporary file's writer: `x.deb.tmp-PID` (place) and `Packages.tmp-PID` (writeAtomic). */
const leftoverPattern = /\.tmp-(\d+)$/;

/**
 * Temporary files are written in `<repository>/.tmp/`: never served, and small enough to sweep each time
 * the repository's lock is taken (a coordinator killed mid-publish leaves its file there for the other).
 */
export const tempDirName = '.tmp';

/** Where `target` is written before its rename into place (the folder is made if missing). */
export async function tempFileFor(target: string): Promise<string> {
  const dir = path.join(path.dirname(target), tempDirName);
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${path.basename(target)}.tmp-${process.pid}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of a coordinator that died between writing and
 * renaming one (a hard link of a deb, a half-written index) from `dir` (a
 * repository's `.tmp/`, or the repository itself, where older versions wrote
 * them): the writer is gone, or is this process before its first publish there.
 */
export async function removeLeftovers(dir: string, logger: Logger): Promise<void> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const name of names) {
    const pid = Number(leftoverPattern.exec(name)?.[1] ?? 0);
    if (pid === 0 || pid === process.pid || alive(pid)) continue;
    await rm(path.join(dir, name), { force: true });
    logger.info({ dir, file: name }, 'apt repository: removed a leftover of an interrupted publish');
  }
}

/** Hard-links (or copies, across file systems) `source` to `target`; nothing to do when they are one file already. */
export async function place(source: string, target: string): Promise<void> {
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  if (to && to.dev === from.dev && to.ino === from.ino) return;
  const tmp = await tempFileFor(target);
  await rm(tmp, { force: true });
  try {
    await link(source, tmp).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EXDEV') throw error;
      await copyFile(source, tmp);
    });
    await rename(tmp, target);
  } finally {
    // rename() of two links of one file succeeds and does nothing, leaving tmp; a failed one leaves it too.
    await rm(tmp, { force: true });
  }
}
