import { cp } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { ensureAbbsSnapshot } from '@aoinb/testkit';
import { extractBundleArchive } from './bundle-archive.ts';
import { loadBundle } from './load-bundle.ts';
import { asyncErrorOf } from '../test-support/test-helpers.ts';
import { packTreeBundles } from './tree-bundle.ts';
import { indexTree, type TreeIndex } from './tree-index.ts';

describe('packTreeBundles on the ABBS snapshot', () => {
  let tree: string;
  let index: TreeIndex;
  const scratch = useTempDir('aoinb-tree-bundle-');
  beforeAll(async () => {
    tree = await ensureAbbsSnapshot();
    index = await indexTree(tree);
  });

  it('takes a bare name, category/name, and a split sub-package PKGNAME, each once', async () => {
    const bundles = await packTreeBundles(
      tree,
      ['tree', 'app-admin/appstream', 'update-alternatives', 'app-utils/tree'],
      { index },
    );
    expect(bundles.map((b) => [b.ref, b.path])).toEqual([
      ['tree', 'app-utils/tree'],
      ['app-admin/appstream', 'app-admin/appstream'],
      ['update-alternatives', 'app-admin/dpkg'],
    ]);
  });

  it('packs a bundle the farm loads as the tree has it (single and split layouts)', async () => {
    const [single, split] = await packTreeBundles(tree, ['app-utils/tree', 'app-admin/appstream'], { index });
    for (const [b, layout] of [
      [single, 'single'],
      [split, 'split'],
    ] as const) {
      const dest = path.join(scratch.dir, b!.path.replace('/', '_'));
      await extractBundleArchive(b!.archive, dest);
      const loaded = await loadBundle(dest, 'amd64');
      const original = await loadBundle(b!.dir, 'amd64');
      expect(loaded.layout).toBe(layout);
      expect(loaded.provides).toEqual(original.provides);
      expect(loaded.sources).toEqual(original.sources);
    }
  });

  it.each([
    ['no-such-package', 'NOT_FOUND', `package "no-such-package": no package named no-such-package in the tree TREE`],
    [
      'app-utils/nope',
      'NOT_FOUND',
      'package "app-utils/nope": no package app-utils/nope in the tree TREE (no app-utils/nope/spec)',
    ],
    [
      '../x',
      'USAGE',
      'package "../x": "../x" leaves the tree (. and .. are not allowed); give a package name or category/name',
    ],
    [
      'app-utils/../../etc',
      'USAGE',
      'package "app-utils/../../etc": "app-utils/../../etc" leaves the tree (. and .. are not allowed); ' +
        'give a package name or category/name',
    ],
    [
      '/etc/passwd',
      'USAGE',
      'package "/etc/passwd": "/etc/passwd" is an absolute path; give a package name or category/name inside the tree',
    ],
    ['a/b/c', 'USAGE', 'package "a/b/c": "a/b/c" is not a package name or category/name (letters, digits, + . _ -)'],
    ['-rf', 'USAGE', 'package "-rf": "-rf" is not a package name or category/name (letters, digits, + . _ -)'],
    ['', 'USAGE', 'package "": "" is empty'],
  ])('refuses %j', async (ref, code, message) => {
    expect(await asyncErrorOf(() => packTreeBundles(tree, [ref], { index }))).toEqual({
      code,
      message: message.replace('TREE', index.root),
    });
  });

  it('refuses a name found in two categories, naming both', async () => {
    const twin = path.join(scratch.dir, 'twin-tree');
    await cp(path.join(tree, 'app-utils/tree'), path.join(twin, 'app-utils/tree'), { recursive: true });
    await cp(path.join(tree, 'app-utils/tree'), path.join(twin, 'extra-utils/tree'), { recursive: true });
    expect(await asyncErrorOf(() => packTreeBundles(twin, ['tree']))).toEqual({
      code: 'USAGE',
      message:
        'package "tree": package name tree is ambiguous, it is in app-utils/tree and extra-utils/tree; ' +
        'write category/name',
    });
    expect((await packTreeBundles(twin, ['extra-utils/tree']))[0]?.path).toBe('extra-utils/tree');
  });

  it('fails before packing anything when one name is bad', async () => {
    expect((await asyncErrorOf(() => packTreeBundles(tree, ['tree', 'nope'], { index }))).code).toBe('NOT_FOUND');
    expect((await asyncErrorOf(() => packTreeBundles(tree, [], { index }))).code).toBe('USAGE');
  });
});
