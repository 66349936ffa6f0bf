import { chmod, copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { runInNspawn } from './overlay-fixture.ts';

/**
 * What goes into the test base OS besides debootstrap's minbase: a C toolchain
 * (build-essential brings gcc, make, dpkg-dev, patch) and what unpacking source
 * tarballs needs, as AOSC's BuildKit has. Nothing else: a bundle that needs more
 * must say so in BUILDDEP, as on AOSC. (autobuild4's own build dependencies come
 * and go inside install-autobuild4.sh.)
 */
export const testBaseosPackages = ['build-essential', 'ca-certificates', 'xz-utils', 'zstd', 'bzip2', 'patch'] as const;

/** How `/usr/bin/autobuild` gets into the rootfs. */
export type AutobuildRecipe =
  /** AOSC's real autobuild4, built from `tarball` inside the rootfs by `installScript`. */
  | { kind: 'autobuild4'; tarball: string; sha256: string; installScript: string }
  /** The quick start's last resort where no autobuild4 source can be had: aoinb's labelled stand-in script. */
  | { kind: 'standin'; script: string };

export interface RootfsRecipe {
  mirror: string;
  suite: string;
  arch: string;
  /** Written to the rootfs's /etc/apt/sources.list. */
  sourcesList: string;
  autobuild: AutobuildRecipe;
  /** Written to /etc/aoinb-test-baseos: what this tree is and is not. */
  label: string;
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

async function debootstrap(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  const args = [
    '--variant=minbase',
    `--arch=${recipe.arch}`,
    `--include=${testBaseosPackages.join(',')}`,
    recipe.suite,
    rootfs,
    recipe.mirror,
  ];
  const result = await execa('debootstrap', args, { reject: false, all: true, stdin: 'ignore' });
  if (result.failed) {
    throw new AoinbError(
      'BASEOS_LOAD_FAILED',
      `debootstrap ${args.join(' ')} failed (${result.shortMessage}); last output:\n${tail(String(result.all ?? ''))}`,
    );
  }
}

/** Builds and installs autobuild4 inside the rootfs (debootstrap's apt lists are still there). */
async function installAutobuild4(
  recipe: Extract<AutobuildRecipe, { kind: 'autobuild4' }>,
  rootfs: string,
): Promise<void> {
  await copyFile(recipe.tarball, path.join(rootfs, 'root/autobuild4.tar.gz'));
  await writeFile(path.join(rootfs, 'root/install-autobuild4.sh'), recipe.installScript);
  const run = await runInNspawn({ root: rootfs, command: ['/bin/bash', '/root/install-autobuild4.sh'] });
  await rm(path.join(rootfs, 'root/install-autobuild4.sh'), { force: true });
  if (run.exitCode !== 0) {
    throw new AoinbError(
      'BASEOS_LOAD_FAILED',
      `building autobuild4 from ${recipe.tarball} in the test base OS failed (exit ${run.exitCode}); ` +
        `last output:\n${tail(run.all)}`,
    );
  }
}

async function installAutobuild(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  if (recipe.autobuild.kind === 'autobuild4') return installAutobuild4(recipe.autobuild, rootfs);
  const autobuild = path.join(rootfs, 'usr/bin/autobuild');
  await writeFile(autobuild, recipe.autobuild.script);
  await chmod(autobuild, 0o755);
}

/** Empties a folder but keeps it (apt wants lists/partial and archives/partial to exist). */
async function emptyFilesIn(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) await rm(path.join(dir, entry.name), { force: true });
  }
}

/** Adds the label and the sources list; drops downloaded lists and debs (BuildKit carries none either). */
async function customise(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  await writeFile(path.join(rootfs, 'etc/aoinb-test-baseos'), recipe.label);
  await writeFile(path.join(rootfs, 'etc/hostname'), 'aoinb-test-baseos\n');
  await writeFile(path.join(rootfs, 'etc/apt/sources.list'), recipe.sourcesList);
  await emptyFilesIn(path.join(rootfs, 'var/lib/apt/lists'));
  await emptyFilesIn(path.join(rootfs, 'var/cache/apt/archives'));
  await emptyFilesIn(path.join(rootfs, 'var/cache/apt'));
}

/** `tar --numeric-owner --xattrs --acls -C rootfs -c . | zstd` into `tarball`. */
export async function packRootfs(rootfs: string, tarball: string): Promise<void> {
  try {
    await execa('tar', ['--numeric-owner', '--xattrs', '--acls', '-C', rootfs, '-c', '.'], {
      buffer: { stdout: false },
    }).pipe('zstd', ['-q', '-T0', '-o', tarball]);
  } catch (error) {
    const detail = error instanceof Error ? error.message.slice(0, 2000) : String(error);
    throw new AoinbError('BASEOS_LOAD_FAILED', `packing ${rootfs} into ${tarball} failed: ${detail}`);
  }
}

/** debootstrap + autobuild + customise into `rootfs` (which must not exist yet); throws naming what failed. */
export async function buildRootfs(recipe: RootfsRecipe, rootfs: string): Promise<void> {
  await mkdir(path.dirname(rootfs), { recursive: true });
  await debootstrap(recipe, rootfs);
  await installAutobuild(recipe, rootfs);
  await customise(recipe, rootfs);
}
