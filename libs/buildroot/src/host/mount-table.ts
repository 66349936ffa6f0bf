import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';

export interface MountEntry {
  target: string;
  fsType: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const dash = fields.indexOf('-');
      return { target: unescapeMountPath(fields[4] ?? ''), fsType: fields[dash + 1] ?? '' };
    });
}

/** Mounts at or below `dir`, deepest first so they can be unmounted in order. */
export async function mountsUnder(dir: string): Promise<MountEntry[]> {
  const prefix = path.resolve(dir);
  const mounts = await readMounts();
  return mounts
    .filter((m) => m.target === prefix || m.target.startsWith(`${prefix}/`))
    .sort((a, b) => b.target.length - a.target.length);
}

export async function mountOverlay(options: {
  lowers: string[];
  upper: string;
  work: string;
  target: string;
  /** No syncs of the upper layer (a throw-away workspace's); see layers/volatile-support.ts. */
  volatile?: boolean;
}): Promise<void> {
  const data =
    `lowerdir=${options.lowers.join(':')},upperdir=${options.upper},workdir=${options.work}` +
    (options.volatile ? ',volatile' : '');
  const result = await execa('mount', ['-t', 'overlay', 'overlay', '-o', data, options.target], { reject: false });
  if (result.exitCode !== 0) {
    throw new AoinbError(
      'MOUNT_FAILED',
      `cannot mount overlay at ${options.target}: ${result.stderr.trim() || `mount exited ${result.exitCode}`}`,
    );
  }
}

/**
 * Unmounts `target`; a busy mount is retried briefly, then detached lazily so the
 * caller never leaves a mount behind in the table.
 */
export async function unmount(target: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const result = await execa('umount', [target], { reject: false });
    if (result.exitCode === 0) return;
    if (!/busy/i.test(result.stderr)) {
      if (!(await mountsUnder(target)).some((m) => m.target === target)) return;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
  }
  const lazy = await execa('umount', ['--lazy', target], { reject: false });
  if (lazy.exitCode !== 0 && (await mountsUnder(target)).some((m) => m.target === target)) {
    throw new AoinbError('MOUNT_FAILED', `cannot unmount ${target}: ${lazy.stderr.trim()}`);
  }
}

/** Unmounts everything at or below `dir`. */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const mounts = await mountsUnder(dir);
  for (const mount of mounts) await unmount(mount.target);
  return mounts.map((m) => m.target);
}

/**
 * Detaches `target` at once and lets the kernel finish in the background: a lazy
 * unmount takes the mount out of the table as soon as the syscall starts, and the
 * rest (tearing the superblock down, for a mount that is not volatile also syncing
 * its upper layer) runs in the `umount` process, which nobody waits for. For
 * throw-away mounts only; falls back to `unmount()` if the mount stays.
 */
export async function detachMount(target: string): Promise<void> {
  const child = spawn('umount', ['--lazy', target], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  for (let waited = 0; waited < 2000; waited += 2) {
    if (!(await readMounts()).some((m) => m.target === target)) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await unmount(target);
}
