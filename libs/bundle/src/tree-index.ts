import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { isBundleFile } from './bundle-files.ts';
import { parseShellAssignments } from './shell-assignments.ts';

/**
 * The packages of an ABBS tree (`category/name` folders holding a `spec`),
 * and how a name given by a user or a group file finds one. As acbs
 * (acbs/find.py) does: `category/name` is that folder; a bare name is the
 * package folder of that name in any category, else a split package whose
 * `NN-name/defines` has that PKGNAME. Unlike acbs, which takes whichever
 * category it meets first, a name found in two places is an error.
 */
export interface TreeIndex {
  /** Absolute path of the tree. */
  root: string;
  /** Every package, `category/name`, sorted. */
  packages: string[];
  /** Folder name -> the `category/name` entries that carry it. */
  byFolder: Map<string, string[]>;
  /** PKGNAME of split sub-packages -> bundles; filled on first need. */
  splitNames?: Map<string, string[]>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9+._-]*$/;

/** A regular file (not a link: loading the bundle checks links again, this is only the index). */
function isSpecFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

export async function indexTree(treeDir: string): Promise<TreeIndex> {
  const root = path.resolve(treeDir);
  const packages: string[] = [];
  let categories;
  try {
    categories = readdirSync(root, { withFileTypes: true });
  } catch {
    throw new AoinbError('NOT_FOUND', `${treeDir}: not a readable ABBS tree folder`);
  }
  // Synchronous: tens of thousands of small metadata calls, much faster than through the thread pool.
  for (const cat of categories) {
    if (!cat.isDirectory() || !SEGMENT.test(cat.name) || cat.name === 'groups') continue;
    for (const entry of readdirSync(path.join(root, cat.name), { withFileTypes: true })) {
      const rel = `${cat.name}/${entry.name}`;
      if (entry.isDirectory() && SEGMENT.test(entry.name) && isSpecFile(path.join(root, rel, 'spec')))
        packages.push(rel);
    }
  }
  packages.sort();
  const byFolder = new Map<string, string[]>();
  for (const p of packages) {
    const name = p.slice(p.indexOf('/') + 1);
    byFolder.set(name, [...(byFolder.get(name) ?? []), p]);
  }
  return { root, packages, byFolder };
}

/** Why a package reference is not acceptable, or undefined when its form is fine. */
export function badPackageRef(ref: string): string | undefined {
  if (ref === '') return 'is empty';
  if (path.isAbsolute(ref)) return 'is an absolute path; give a package name or category/name inside the tree';
  const parts = ref.split('/');
  if (parts.some((p) => p === '..' || p === '.'))
    return 'leaves the tree (. and .. are not allowed); give a package name or category/name';
  if (parts.length > 2 || !parts.every((p) => SEGMENT.test(p)))
    return 'is not a package name or category/name (letters, digits, + . _ -)';
  return undefined;
}

async function splitNames(index: TreeIndex): Promise<Map<string, string[]>> {
  if (index.splitNames) return index.splitNames;
  const names = new Map<string, string[]>();
  for (const p of index.packages) {
    for (const entry of readdirSync(path.join(index.root, p), { withFileTypes: true })) {
      if (!entry.isDirectory() || !/^\d+-/.test(entry.name)) continue;
      const rel = `${p}/${entry.name}/defines`;
      if (!(await isBundleFile(index.root, rel))) continue;
      const vars = parseShellAssignments(readFileSync(path.join(index.root, rel), 'utf8'), { file: rel });
      let name: string | undefined;
      try {
        name = vars.get('PKGNAME');
      } catch {
        continue; // an unreadable PKGNAME names nothing; loading that bundle reports it
      }
      if (name && !(names.get(name) ?? []).includes(p)) names.set(name, [...(names.get(name) ?? []), p]);
    }
  }
  index.splitNames = names;
  return names;
}

/**
 * The `category/name` a reference stands for. `where` prefixes messages
 * (a group file's `groups/x:3`, or the command line's argument).
 */
export async function resolvePackage(index: TreeIndex, ref: string, where = ref): Promise<string> {
  const bad = badPackageRef(ref);
  if (bad) throw new AoinbError('USAGE', `${where}: ${JSON.stringify(ref)} ${bad}`);
  if (ref.includes('/')) {
    if (index.packages.includes(ref)) return ref;
    throw new AoinbError('NOT_FOUND', `${where}: no package ${ref} in the tree ${index.root} (no ${ref}/spec)`);
  }
  let found = index.byFolder.get(ref) ?? [];
  if (found.length === 0) found = (await splitNames(index)).get(ref) ?? [];
  if (found.length === 1) return found[0] as string;
  if (found.length > 1) {
    throw new AoinbError(
      'USAGE',
      `${where}: package name ${ref} is ambiguous, it is in ${found.join(' and ')}; write category/name`,
    );
  }
  throw new AoinbError('NOT_FOUND', `${where}: no package named ${ref} in the tree ${index.root}`);
}
