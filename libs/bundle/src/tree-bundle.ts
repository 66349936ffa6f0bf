import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { packBundle, type PackOptions } from './bundle-archive.ts';
import { indexTree, resolvePackage, type TreeIndex } from './tree-index.ts';

/** One package of an ABBS tree, packed as an upload-ready bundle. */
export interface TreeBundle {
  /** What the user asked for (`tree`, `app-utils/tree`). */
  ref: string;
  /** The package's `category/name` in the tree. */
  path: string;
  /** Its folder: `spec`, `autobuild/` or `NN-name/` split folders, patches. */
  dir: string;
  /** The bundle as `packBundle` makes it (deterministic tar.gz). */
  archive: Buffer;
}

/** Resolves every reference first, so a bad name fails before anything is packed or sent. */
export async function resolveTreePackages(
  index: TreeIndex,
  refs: readonly string[],
): Promise<Array<{ ref: string; path: string }>> {
  if (refs.length === 0) throw new AoinbError('USAGE', 'name at least one package (name or category/name) of the tree');
  const out: Array<{ ref: string; path: string }> = [];
  for (const ref of refs) {
    const resolved = await resolvePackage(index, ref, `package ${JSON.stringify(ref)}`);
    if (!out.some((o) => o.path === resolved)) out.push({ ref, path: resolved });
  }
  return out;
}

/**
 * Packs the packages named by `refs` (names or `category/name`, as acbs
 * takes them) from the tree at `treeDir`, in the order given, each once.
 */
export async function packTreeBundles(
  treeDir: string,
  refs: readonly string[],
  options: PackOptions & { index?: TreeIndex } = {},
): Promise<TreeBundle[]> {
  const index = options.index ?? (await indexTree(treeDir));
  const bundles: TreeBundle[] = [];
  for (const { ref, path: rel } of await resolveTreePackages(index, refs)) {
    const dir = path.join(index.root, rel);
    bundles.push({ ref, path: rel, dir, archive: await packBundle(dir, options) });
  }
  return bundles;
}
