import { createHash } from 'node:crypto';
import { readFile, readdir, rename, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { execa } from 'execa';
import { defaultTestkitCacheDir } from './cache-dir.ts';
import { autobuild4Release, autobuild4Tarball } from './autobuild4-source.ts';
import { readDebianMirror, type DebianMirror } from './debian-mirror.ts';
import {
  buildRootfs,
  packRootfs,
  testBaseosPackages,
  type AutobuildRecipe,
  type RootfsRecipe,
} from './debootstrap-rootfs.ts';
import { withFileLock } from './file-lock.ts';
import { assertHostReady } from './host-tools.ts';
import { removeTree } from './remove-tree.ts';

export { defaultTestkitCacheDir };

/** Bump when the way the base OS is made changes in a way the other inputs do not show. */
const recipeFormat = 4;

/** autobuild4 4.17.10 builds unpatched on trixie; bookworm's GCC and glibc are too old for it. */
export const testBaseosSuite = 'trixie';

/** A cache entry nobody has used for this long may be pruned (other worktrees may still use older keys). */
const pruneAfterMs = 24 * 3600_000;

export const testBaseosLabel = `This is aoinb's TEST BASE OS: Debian ${testBaseosSuite} made with debootstrap by
@aoinb/testkit, with AOSC's real autobuild4 ${autobuild4Release.version} built from its source
and installed as /usr/bin/autobuild. It is NOT AOSC OS and NOT AOSC's BuildKit:
the packages underneath are Debian's.
`;

export const standinLabel = `This is aoinb's STAND-IN base OS (the quick start's last resort): a Debian
rootfs made with debootstrap by @aoinb/testkit, carrying aoinb's stand-in
/usr/bin/autobuild because no autobuild4 source could be had. It is NOT AOSC OS,
NOT AOSC's BuildKit, and its autobuild is NOT AOSC's autobuild4.
`;

export interface TestBaseos {
  /** `<dir>/test-baseos-<arch>.tar.zst`, a base OS tarball for load-baseos. */
  tarball: string;
  /** The same tree unpacked; use it read-only (e.g. as an OverlayFS lower layer). */
  rootfsDir: string;
  mirror: string;
  suite: string;
  arch: string;
  /** Which autobuild the tree carries. */
  autobuild: AutobuildRecipe['kind'];
  /** `deb <mirror> <suite> main` */
  sourcesListLine: string;
  /** The whole sources.list for that mirror (`<suite>` and `<suite>-updates` if configured), newline-terminated. */
  sourcesList: string;
  /** Hash of the inputs; names the cache folder. */
  key: string;
}

export interface EnsureTestBaseosOptions {
  cacheDir?: string;
  /** Debian arch to debootstrap; default: the host's (`dpkg --print-architecture`). */
  arch?: string;
  /** Where to read apt's sources from (default /etc/apt). */
  aptDir?: string;
  /**
   * The quick start only: without ../shared, fetch the pinned autobuild4 release
   * (never in CI), and failing that build the labelled stand-in. Tests never set it.
   */
  quickstartFallbacks?: boolean;
  /** Progress messages for people (the cold path takes a minute or two). */
  onProgress?: (message: string) => void;
}

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
export const installAutobuild4ScriptPath = (): string => here('./install-autobuild4.sh');
export const standinAutobuildPath = (): string => here('./standin-autobuild.sh');

async function hostArch(): Promise<string> {
  return (await execa('dpkg', ['--print-architecture'])).stdout.trim();
}

async function exists(file: string): Promise<boolean> {
  return Boolean(await stat(file).catch(() => undefined));
}

/** The key covers every input but the tarball's path (its sha256 stands for it). */
function recipeKey(recipe: RootfsRecipe): string {
  const autobuild =
    recipe.autobuild.kind === 'autobuild4' ? { ...recipe.autobuild, tarball: undefined } : recipe.autobuild;
  const inputs = { recipeFormat, ...recipe, autobuild, packages: testBaseosPackages, variant: 'minbase' };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

function suiteLines(debian: DebianMirror): string[] {
  const lines = [`deb ${debian.mirror} ${testBaseosSuite} main`];
  if (debian.updates) lines.push(`deb ${debian.mirror} ${testBaseosSuite}-updates main`);
  return lines;
}

async function autobuildRecipe(options: EnsureTestBaseosOptions, cacheDir: string): Promise<AutobuildRecipe> {
  const installScript = await readFile(installAutobuild4ScriptPath(), 'utf8');
  try {
    const source = await autobuild4Tarball({ allowFetch: options.quickstartFallbacks, cacheDir });
    return { kind: 'autobuild4', ...source, installScript };
  } catch (error) {
    if (!options.quickstartFallbacks || process.env.CI) throw error;
    options.onProgress?.(
      `no autobuild4 source (${(error as Error).message}); falling back to aoinb's labelled STAND-IN autobuild`,
    );
    return { kind: 'standin', script: await readFile(standinAutobuildPath(), 'utf8') };
  }
}

async function buildInto(recipe: RootfsRecipe, cacheDir: string, finalDir: string, tarballName: string): Promise<void> {
  const temp = path.join(cacheDir, `.building-${path.basename(finalDir)}-${process.pid}`);
  await removeTree(temp);
  try {
    await buildRootfs(recipe, path.join(temp, 'rootfs'));
    await packRootfs(path.join(temp, 'rootfs'), path.join(temp, tarballName));
    const autobuild =
      recipe.autobuild.kind === 'autobuild4' ? { ...recipe.autobuild, installScript: undefined } : { kind: 'standin' };
    await writeFile(
      path.join(temp, 'recipe.json'),
      `${JSON.stringify({ ...recipe, autobuild, packages: testBaseosPackages }, null, 2)}\n`,
    );
    await writeFile(path.join(temp, 'last-used'), '');
    await rename(temp, finalDir);
  } catch (error) {
    await removeTree(temp);
    throw error;
  }
}

/** When an entry was last used: its `last-used` stamp, else the folder's own mtime. */
async function lastUsed(dir: string): Promise<number> {
  const stamp = await stat(path.join(dir, 'last-used')).catch(() => stat(dir));
  return stamp.mtimeMs;
}

/**
 * Called under the lock: removes this lock's interrupted builds, and other keys'
 * base OSes of this arch that nobody used for a day (another worktree's tests may
 * be running on an older key right now, so a fresh one is never pruned).
 */
export async function pruneCache(cacheDir: string, arch: string, keep: string): Promise<void> {
  const entry = new RegExp(`^(test-baseos|standin-baseos|standin-baseos-q)-${arch}-[0-9a-f]{16}$`);
  for (const name of await readdir(cacheDir)) {
    const dir = path.join(cacheDir, name);
    if (name.startsWith('.building-test-baseos-') || name.startsWith('.building-standin-baseos-q-'))
      await removeTree(dir);
    else if (entry.test(name) && name !== keep && Date.now() - (await lastUsed(dir)) > pruneAfterMs)
      await removeTree(dir);
  }
}

/**
 * The test base OS (see docs/testing.md): Debian trixie debootstrapped from the
 * mirror this machine's apt uses, with AOSC's real autobuild4 built from
 * ../shared/vendor inside it and a label, packed as `test-baseos-<arch>.tar.zst`.
 * Cached under `cacheDir`, keyed by mirror, suite, arch, package list, the
 * autobuild4 tarball's sha256, the install script and label; built once (an
 * flock serialises concurrent callers) and atomically (a temp folder renamed
 * into place; a failure leaves nothing behind).
 */
export async function ensureTestBaseos(options: EnsureTestBaseosOptions = {}): Promise<TestBaseos> {
  const cacheDir = options.cacheDir ?? defaultTestkitCacheDir;
  const progress = options.onProgress ?? (() => {});
  const debian = await readDebianMirror({ aptDir: options.aptDir });
  const arch = options.arch ?? (await hostArch());
  const lines = suiteLines(debian);
  const sourcesList = `${lines.join('\n')}\n`;
  const autobuild = await autobuildRecipe(options, cacheDir);
  const label = autobuild.kind === 'autobuild4' ? testBaseosLabel : standinLabel;
  const recipe: RootfsRecipe = { mirror: debian.mirror, suite: testBaseosSuite, arch, sourcesList, autobuild, label };
  const key = recipeKey(recipe);
  // The stand-in gets its own name ("-q-" for quick start) so no test ever mistakes it for the real thing.
  const dirName = autobuild.kind === 'autobuild4' ? `test-baseos-${arch}-${key}` : `standin-baseos-q-${arch}-${key}`;
  const finalDir = path.join(cacheDir, dirName);
  const tarballName = `test-baseos-${arch}.tar.zst`;
  if (!(await exists(finalDir))) {
    await mkdir(cacheDir, { recursive: true });
    await withFileLock(path.join(cacheDir, 'test-baseos.lock'), async () => {
      if (await exists(finalDir)) return;
      await assertHostReady(['debootstrap', 'tar', 'zstd']);
      progress(
        `building the test base OS (debootstrap ${testBaseosSuite} from ${debian.mirror}, ${autobuild.kind}) ` +
          `into ${finalDir}; this takes a minute or two`,
      );
      const started = Date.now();
      await buildInto(recipe, cacheDir, finalDir, tarballName);
      await pruneCache(cacheDir, arch, dirName);
      progress(`test base OS ready in ${Math.round((Date.now() - started) / 1000)} s`);
    });
  }
  const now = new Date();
  await utimes(path.join(finalDir, 'last-used'), now, now).catch(() => writeFile(path.join(finalDir, 'last-used'), ''));
  return {
    tarball: path.join(finalDir, tarballName),
    rootfsDir: path.join(finalDir, 'rootfs'),
    mirror: debian.mirror,
    suite: testBaseosSuite,
    arch,
    autobuild: autobuild.kind,
    sourcesListLine: lines[0] ?? '',
    sourcesList,
    key,
  };
}
