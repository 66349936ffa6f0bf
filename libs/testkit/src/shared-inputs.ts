import { access, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { withFileLock } from './file-lock.ts';
import { defaultTestkitCacheDir } from './cache-dir.ts';
import { sha256File } from './source-tarball.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `../shared` beside the repository: third-party inputs the tests need (AOSC's autobuild4
 * source, a snapshot of the ABBS tree). `AOINB_SHARED_DIR` points elsewhere.
 */
export function sharedDir(): string {
  return process.env.AOINB_SHARED_DIR ?? path.resolve(repoRoot, '..', 'shared');
}

/** A file under `../shared`, or a clear error naming what is missing. */
export async function sharedFile(...parts: string[]): Promise<string> {
  const file = path.join(sharedDir(), ...parts);
  try {
    await access(file);
  } catch {
    throw new AoinbError(
      'NOT_FOUND',
      `${file} is missing: the tests need ../shared beside the repository (or AOINB_SHARED_DIR)`,
    );
  }
  return file;
}

export const abbsSnapshotName = 'aosc-os-abbs-2539609';

/**
 * The ABBS tree snapshot unpacked once into the test kit cache (read-only use), keyed by the
 * tarball's content (sha256: ../shared is laid down anew with new mtimes, which must not mean a
 * new copy); concurrent callers wait for one unpacker, which also removes copies of other
 * contents. Returns the tree's root.
 */
export async function ensureAbbsSnapshot(options: { cacheDir?: string } = {}): Promise<string> {
  const tarball = await sharedFile('abbs', `${abbsSnapshotName}.tar.zst`);
  const digest = (await sha256File(tarball)).slice(0, 16);
  const cacheDir = options.cacheDir ?? defaultTestkitCacheDir;
  const stem = `abbs-${abbsSnapshotName}-`;
  const dir = path.join(cacheDir, `${stem}${digest}`);
  const ready = async () =>
    access(path.join(dir, '.ready')).then(
      () => true,
      () => false,
    );
  if (await ready()) return dir;
  return withFileLock(path.join(cacheDir, 'abbs-snapshot.lock'), async () => {
    if (await ready()) return dir;
    const otherContent = new RegExp(`^${stem}[0-9a-f]{16}$`);
    for (const entry of await readdir(cacheDir))
      if (otherContent.test(entry)) await rm(path.join(cacheDir, entry), { recursive: true, force: true });
    const building = `${dir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { recursive: true });
    await execa('sh', ['-c', 'zstd -dc "$1" | tar -x -C "$2"', 'unpack', tarball, building]);
    await execa('touch', [path.join(building, '.ready')]);
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
    return dir;
  });
}
