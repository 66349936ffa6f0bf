import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface SmallDisk {
  /** Where the file system is mounted. */
  dir: string;
  /** Fills it up to the last byte (ENOSPC from here on) with one file; `free()` removes it. */
  fill(): Promise<void>;
  free(): Promise<void>;
  /** Unmounts and removes the mount point; safe to call twice. */
  unmount(): Promise<void>;
}

/**
 * A real, small file system (tmpfs of `sizeMib`, at `at` or a new temporary
 * folder) for disk-full tests: writes there fail with a real ENOSPC from the
 * kernel. Needs root (tests run as root).
 */
export async function mountSmallDisk(sizeMib: number, at?: string): Promise<SmallDisk> {
  const dir = at ?? (await mkdtemp(path.join(tmpdir(), 'aoinb-small-disk-')));
  await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${sizeMib}m,mode=0755`, 'tmpfs', dir]);
  const filler = path.join(dir, '.filler');
  let mounted = true;
  return {
    dir,
    fill: async () => {
      // dd stops at ENOSPC; its non-zero exit is the point.
      await execa('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { reject: false });
      await writeFile(path.join(dir, '.probe'), 'x'.repeat(8192)).catch(() => undefined);
    },
    free: () => rm(filler, { force: true }),
    unmount: async () => {
      if (!mounted) return;
      mounted = false;
      await execa('umount', ['-l', dir], { reject: false });
      if (!at) await rm(dir, { recursive: true, force: true });
    },
  };
}
