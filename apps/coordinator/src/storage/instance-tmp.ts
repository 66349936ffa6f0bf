import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, tryAcquireLock, withLock, type HeldLock } from '@aoinb/buildroot';
import type { Logger } from '@aoinb/logging';

export interface InstanceTmp {
  /** This coordinator's folder for uploads in progress: `<storage>/tmp/<instance>`. */
  dir: string;
  close(): Promise<void>;
}

/**
 * Gives this coordinator a temporary folder of its own under the shared
 * `tmp/`, held by an flock on `tmp/<instance>.lock` for its lifetime (the
 * kernel drops it when the process dies, even by SIGKILL). At start, the
 * folders of coordinators that are gone (their lock is free) are removed, and
 * those of a running one (another host or process sharing the storage) are
 * left alone. `tmp/.sweep.lock` keeps one coordinator's sweep away from
 * another's half-made folder.
 */
export async function openInstanceTmp(tmpRoot: string, instance: string, logger: Logger): Promise<InstanceTmp> {
  const name = instance.replace(/[^A-Za-z0-9._-]/g, '-');
  await mkdir(tmpRoot, { recursive: true });
  const dir = path.join(tmpRoot, name);
  const held = await withLock(path.join(tmpRoot, '.sweep.lock'), 'exclusive', async (): Promise<HeldLock> => {
    for (const entry of await readdir(tmpRoot)) {
      if (entry.startsWith('.') || entry.endsWith('.lock')) continue;
      const lock = await tryAcquireLock(path.join(tmpRoot, `${entry}.lock`), 'exclusive');
      if (!lock) continue;
      await rm(path.join(tmpRoot, entry), { recursive: true, force: true });
      await rm(path.join(tmpRoot, `${entry}.lock`), { force: true });
      await lock.release();
      logger.info({ dir: entry }, 'removed the uploads in progress of a coordinator that is gone');
    }
    const own = await acquireLock(path.join(tmpRoot, `${name}.lock`), 'exclusive');
    await mkdir(dir, { recursive: true });
    return own;
  });
  return {
    dir,
    async close() {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      await rm(`${dir}.lock`, { force: true }).catch(() => undefined);
      await held.release();
    },
  };
}
