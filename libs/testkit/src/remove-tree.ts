import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** Mount points at or under `dir`, deepest first (octal escapes of /proc/mounts decoded). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const text = await readFile('/proc/mounts', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === root || p.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a folder that a killed debootstrap or container may have left mounts
 * in (proc, sys, devpts): unmounts them first (lazily), then deletes without
 * crossing into any other file system.
 */
export async function removeTree(dir: string): Promise<void> {
  for (const mount of await mountsUnder(dir)) {
    await execa('umount', ['--lazy', mount], { reject: false });
  }
  await execa('rm', ['-rf', '--one-file-system', '--', dir]);
}
