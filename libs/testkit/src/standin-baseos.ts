import { createHash } from 'node:crypto';
import { readFile, readdir, rename, stat, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { execa } from 'execa';
import { readDebianMirror } from './debian-mirror.ts';
import { buildRootfs, packRootfs, standinPackages, type RootfsRecipe } from './debootstrap-rootfs.ts';
import { withFileLock } from './file-lock.ts';
import { assertHostReady } from './host-tools.ts';
import { removeTree } from './remove-tree.ts';

export const defaultTestkitCacheDir = '/var/cache/aoinb-testkit';

/** Bump when the way the base OS is made changes in a way the other inputs do not show. */
const recipeFormat = 3;

export const standinLabel = `This is aoinb's STAND-IN base OS for tests: a Debian rootfs made with
debootstrap by @aoinb/testkit, carrying aoinb's stand-in /usr/bin/autobuild.
It is NOT AOSC OS and NOT AOSC's BuildKit; its autobuild is NOT AOSC's autobuild.
`;

export interface StandinBaseos {
  /** `<dir>/standin-baseos-<arch>.tar.zst`, a base OS tarball for load-baseos. */
  tarball: string;
  /** The same tree unpacked; use it read-only (e.g. as an OverlayFS lower layer). */
  rootfsDir: string;
  mirror: string;
  suite: string;
  arch: string;
  /** `deb <mirror> <suite> main` */
  sourcesListLine: string;
  /** The whole sources.list for that mirror (`<suite>` and `<suite>-updates` if configured), newline-terminated. */
  sourcesList: string;
  /** Hash of the inputs; names the cache folder. */
  key: string;
}

export interface EnsureStandinOptions {
  cacheDir?: string;
  /** Debian arch to debootstrap; default: the host's (`dpkg --print-architecture`). */
  arch?: string;
  /** Where to read apt's sources from (default /etc/apt). */
  aptDir?: string;
  /** Progress messages for people (the cold path takes a minute or more). */
  onProgress?: (message: string) => void;
}

export function standinAutobuildPath(): string {
  return fileURLToPath(new URL('./standin-autobuild.sh', import.meta.url));
}

async function hostArch(): Promise<string> {
  return (await execa('dpkg', ['--print-architecture'])).stdout.trim();
}

async function exists(file: string): Promise<boolean> {
  return Boolean(await stat(file).catch(() => undefined));
}

function recipeKey(recipe: RootfsRecipe): string {
  const inputs = { recipeFormat, ...recipe, packages: standinPackages, variant: 'minbase' };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

async function buildInto(recipe: RootfsRecipe, cacheDir: string, finalDir: string, tarballName: string): Promise<void> {
  const temp = path.join(cacheDir, `.building-${path.basename(finalDir)}-${process.pid}`);
  await removeTree(temp);
  try {
    await buildRootfs(recipe, path.join(temp, 'rootfs'));
    await packRootfs(path.join(temp, 'rootfs'), path.join(temp, tarballName));
    await writeFile(path.join(temp, 'recipe.json'), `${JSON.stringify({ ...recipe, autobuildScript: undefined, packages: standinPackages }, null, 2)}\n`);
    await rename(temp, finalDir);
  } catch (error) {
    await removeTree(temp);
    throw error;
  }
}

/** Removes other keys' base OSes of this arch and leftovers of interrupted builds (called under the lock). */
async function pruneCache(cacheDir: string, arch: string, keep: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const stale = name.startsWith('.building-') || (name.startsWith(`standin-baseos-${arch}-`) && name !== keep);
    if (stale) await removeTree(path.join(cacheDir, name));
  }
}

/**
 * The Debian stand-in base OS (see docs/testing.md): debootstrapped from the
 * mirror this machine's apt uses, with the stand-in autobuild and a label,
 * packed as `standin-baseos-<arch>.tar.zst`. Cached under `cacheDir`, keyed by
 * mirror, suite, arch, package list, autobuild script and label; built once
 * (an flock serialises concurrent callers) and atomically (a temp folder
 * renamed into place; a failure leaves nothing behind).
 */
export async function ensureStandinBaseos(options: EnsureStandinOptions = {}): Promise<StandinBaseos> {
  const cacheDir = options.cacheDir ?? defaultTestkitCacheDir;
  const progress = options.onProgress ?? (() => {});
  const debian = await readDebianMirror({ aptDir: options.aptDir });
  const arch = options.arch ?? (await hostArch());
  const sourcesList = `${debian.sourcesListLines.join('\n')}\n`;
  const recipe: RootfsRecipe = {
    mirror: debian.mirror, suite: debian.suite, arch, sourcesList,
    autobuildScript: await readFile(standinAutobuildPath(), 'utf8'),
    label: standinLabel,
  };
  const key = recipeKey(recipe);
  const dirName = `standin-baseos-${arch}-${key}`;
  const finalDir = path.join(cacheDir, dirName);
  const tarballName = `standin-baseos-${arch}.tar.zst`;
  if (!(await exists(finalDir))) {
    await mkdir(cacheDir, { recursive: true });
    await withFileLock(path.join(cacheDir, 'standin-baseos.lock'), async () => {
      if (await exists(finalDir)) return;
      await assertHostReady(['debootstrap', 'tar', 'zstd']);
      progress(`building the stand-in base OS (debootstrap ${debian.suite} from ${debian.mirror}) into ${finalDir}; this takes a minute or two`);
      const started = Date.now();
      await buildInto(recipe, cacheDir, finalDir, tarballName);
      await pruneCache(cacheDir, arch, dirName);
      progress(`stand-in base OS ready in ${Math.round((Date.now() - started) / 1000)} s`);
    });
  }
  return {
    tarball: path.join(finalDir, tarballName),
    rootfsDir: path.join(finalDir, 'rootfs'),
    mirror: debian.mirror, suite: debian.suite, arch,
    sourcesListLine: debian.sourcesListLines[0] ?? '',
    sourcesList, key,
  };
}
