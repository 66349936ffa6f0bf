import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { detachMount, unmountAllUnder } from '../host/mount-table.ts';
import type { WorkLayout } from '../work-layout.ts';

/**
 * Deletes a layer without making the caller wait for it: unmount, rename into
 * the trash (instant, same filesystem), and let a detached `rm` finish the job.
 * The time taken does not grow with what the build wrote. `detach`: a mount
 * under `dir` that is only thrown away, so the caller need not wait for the kernel
 * to tear it down.
 */
export async function discardDir(layout: WorkLayout, dir: string, options: { detach?: string } = {}): Promise<void> {
  // A workspace's one mount is detached, not waited for (see detachMount).
  if (options.detach) await detachMount(options.detach);
  await unmountAllUnder(dir);
  await mkdir(layout.trashDir, { recursive: true });
  const trashed = path.join(
    layout.trashDir,
    `${path.basename(dir)}-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
  try {
    await rename(dir, trashed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  emptyTrashInBackground([trashed]);
}

export function emptyTrashInBackground(dirs: string[]): void {
  if (dirs.length === 0) return;
  const child = spawn('rm', ['-rf', '--one-file-system', '--', ...dirs], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}

/** Restarts deletion of whatever an earlier process left in the trash. */
export async function sweepTrash(layout: WorkLayout): Promise<void> {
  const entries = await readdir(layout.trashDir).catch(() => [] as string[]);
  emptyTrashInBackground(entries.map((entry) => path.join(layout.trashDir, entry)));
}

/** Deletes a folder now (for small ones where waiting is fine). */
export async function removeNow(dir: string): Promise<void> {
  await unmountAllUnder(dir);
  await rm(dir, { recursive: true, force: true });
}
