import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { archGroupsOf } from './arch-groups.ts';

/** spec and defines are small; anything bigger is not a bundle file. */
export const MAX_METADATA_BYTES = 1024 * 1024;

export type BundleLayout =
  /** `autobuild/defines`: one package. */
  | 'single'
  /** `autobuild/NN-name/defines`: split packages inside `autobuild/`. */
  | 'split-in-autobuild'
  /** `NN-name/defines` next to `spec`: split packages as the AOSC tree lays them out (acbs, BuildIt!). */
  | 'split';

export interface PackageDir {
  /** 1-based build order from the `NN-` prefix; 0 for a single package. */
  order: number;
  /** The folder holding this package's defines and scripts, relative to the bundle. */
  scriptDir: string;
}

function invalid(message: string): AoinbError {
  return new AoinbError('BUNDLE_INVALID', message);
}

/*
 * The checks below call the synchronous fs functions: each is one small
 * metadata syscall, and a bundle takes a few dozen of them; going through
 * libuv's thread pool for each made reading the whole tree (16k bundle
 * loads) ten times slower.
 */

/** Whether anything (a dangling link included) is at `p`; unreadable counts as absent. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

async function kind(p: string): Promise<'file' | 'dir' | 'link' | 'other' | 'missing'> {
  try {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return 'link';
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return 'missing';
    throw err;
  }
}

/** True for a regular file (or a link to one) whose real path is inside the bundle. */
export async function isBundleFile(root: string, rel: string): Promise<boolean> {
  const full = path.join(root, rel);
  const k = await kind(full);
  if (k !== 'file' && k !== 'link') return false;
  try {
    const real = realpathSync.native(full);
    const realRoot = realpathSync.native(root);
    return real.startsWith(realRoot + path.sep) && (await kind(real)) === 'file';
  } catch {
    return false;
  }
}

/** Reads a metadata file of the bundle; refuses links out of it, non-files and oversized files. */
export async function readBundleFile(root: string, rel: string): Promise<string> {
  const full = path.join(root, rel);
  const k = await kind(full);
  if (k === 'missing') throw invalid(`${rel}: file is missing`);
  if (!(await isBundleFile(root, rel)))
    throw new AoinbError('BUNDLE_UNSAFE', `${rel}: not a regular file inside the bundle`);
  const data = readFileSync(full);
  if (data.length > MAX_METADATA_BYTES)
    throw invalid(`${rel}: ${data.length} bytes is too large for a metadata file (limit ${MAX_METADATA_BYTES})`);
  if (data.includes(0)) throw invalid(`${rel}: contains NUL bytes; not a text file`);
  return data.toString('utf8');
}

async function splitDirs(root: string, base: string, exclude: string[]): Promise<PackageDir[]> {
  const dir = path.join(root, base);
  if ((await kind(dir)) !== 'dir') return [];
  const found: PackageDir[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || exclude.includes(entry.name)) continue;
    const rel = base ? `${base}/${entry.name}` : entry.name;
    const m = /^(\d+)-[A-Za-z0-9+._-]+$/.exec(entry.name);
    if (!m) {
      if (base === '' && (await isBundleFile(root, `${rel}/defines`)))
        throw invalid(`${rel}: split package folders are named NN-name (e.g. 01-${entry.name})`);
      continue;
    }
    if (await isBundleFile(root, `${rel}/defines`)) found.push({ order: Number(m[1]), scriptDir: rel });
  }
  found.sort((a, b) => a.order - b.order);
  for (let i = 1; i < found.length; i++) {
    const [a, b] = [found[i - 1] as PackageDir, found[i] as PackageDir];
    if (a.order === b.order) throw invalid(`${b.scriptDir}: build order ${b.order} is also used by ${a.scriptDir}`);
  }
  return found;
}

/** Finds the bundle's packages, in build order, and which layout it uses. */
export async function findPackageDirs(root: string): Promise<{ layout: BundleLayout; packages: PackageDir[] }> {
  const single = await isBundleFile(root, 'autobuild/defines');
  if (!single && (await kind(path.join(root, 'autobuild/defines'))) !== 'missing') {
    throw new AoinbError('BUNDLE_UNSAFE', 'autobuild/defines: not a regular file inside the bundle');
  }
  const nested = await splitDirs(root, 'autobuild', []);
  if (single && nested.length > 0) {
    throw invalid(
      `autobuild/defines and ${nested[0]?.scriptDir}/defines both exist: ` +
        `a bundle is either one package or split packages`,
    );
  }
  if (single) return { layout: 'single', packages: [{ order: 0, scriptDir: 'autobuild' }] };
  if (nested.length > 0) return { layout: 'split-in-autobuild', packages: nested };
  if ((await kind(path.join(root, 'autobuild'))) !== 'missing') throw invalid('autobuild/defines: file is missing');
  const top = await splitDirs(root, '', ['autobuild']);
  if (top.length > 0) return { layout: 'split', packages: top };
  throw invalid('autobuild/defines: file is missing (and there are no NN-name/defines split packages)');
}

/**
 * The defines file autobuild4 sources for `arch` (native/abnativefunctions.cpp,
 * arch_findfile_inner): `<dir>/<arch>/defines`, else `<dir>/<group>/defines`
 * for the arch's groups, else `<dir>/defines`.
 */
export async function definesFileFor(root: string, scriptDir: string, arch: string): Promise<string> {
  for (const sub of [arch, ...archGroupsOf(arch)]) {
    const rel = `${scriptDir}/${sub}/defines`;
    if (await isBundleFile(root, rel)) return rel;
  }
  return `${scriptDir}/defines`;
}
