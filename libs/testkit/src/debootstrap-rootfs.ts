import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';

/**
 * What goes into the stand-in base OS besides debootstrap's minbase: a C
 * toolchain (build-essential brings gcc, make, dpkg-dev, patch) and what
 * unpacking source tarballs needs. Nothing else: a bundle that needs more
 * must say so in BUILDDEP, as on AOSC.
 */
export const standinPackages = ['build-essential', 'ca-certificates', 'xz-utils', 'zstd', 'bzip2', 'patch'] as const;

export interface RootfsRecipe {
  mirror: string;
  suite: string;
  arch: string;
  /** Written to the rootfs's /etc/apt/sources.list. */
  sourcesList: string;
  autobuildScript: string;
  label: string;
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

async function debootstrap(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  const args = ['--variant=minbase', `--arch=${recipe.arch}`, `--include=${standinPackages.join(',')}`, recipe.suite, rootfs, recipe.mirror];
  const result = await execa('debootstrap', args, { reject: false, all: true, stdin: 'ignore' });
  if (result.failed) {
    throw new AoinbError(
      'BASEOS_LOAD_FAILED',
      `debootstrap ${args.join(' ')} failed (${result.shortMessage}); last output:\n${tail(String(result.all ?? ''))}`,
    );
  }
}

/** Empties a folder but keeps it (apt wants lists/partial and archives/partial to exist). */
async function emptyFilesIn(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) await rm(path.join(dir, entry.name), { force: true });
  }
}

/** Adds the stand-in autobuild, the label and the sources list; drops downloaded lists and debs. */
async function customise(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  const autobuild = path.join(rootfs, 'usr/bin/autobuild');
  await writeFile(autobuild, recipe.autobuildScript);
  await chmod(autobuild, 0o755);
  await writeFile(path.join(rootfs, 'etc/aoinb-standin-baseos'), recipe.label);
  await writeFile(path.join(rootfs, 'etc/hostname'), 'aoinb-standin\n');
  await writeFile(path.join(rootfs, 'etc/apt/sources.list'), recipe.sourcesList);
  await emptyFilesIn(path.join(rootfs, 'var/lib/apt/lists'));
  await emptyFilesIn(path.join(rootfs, 'var/cache/apt/archives'));
  await emptyFilesIn(path.join(rootfs, 'var/cache/apt'));
}

/** `tar --numeric-owner --xattrs --acls -C rootfs -c . | zstd` into `tarball`. */
export async function packRootfs(rootfs: string, tarball: string): Promise<void> {
  try {
    await execa('tar', ['--numeric-owner', '--xattrs', '--acls', '-C', rootfs, '-c', '.'], { buffer: { stdout: false } })
      .pipe('zstd', ['-q', '-T0', '-o', tarball]);
  } catch (error) {
    const detail = error instanceof Error ? error.message.slice(0, 2000) : String(error);
    throw new AoinbError('BASEOS_LOAD_FAILED', `packing ${rootfs} into ${tarball} failed: ${detail}`);
  }
}

/** debootstrap + customise into `rootfs` (which must not exist yet); throws naming what failed. */
export async function buildRootfs(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  await mkdir(path.dirname(rootfs), { recursive: true });
  await debootstrap(recipe, rootfs);
  await customise(recipe, rootfs);
}
