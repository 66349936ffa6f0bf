import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncErrorOf } from '../test-support/test-helpers.ts';
import { checkTree } from './tree-check.ts';

let work: string;
let root: string;
const limits = { maxBytes: 1 << 20, maxEntries: 100 };

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'aoinb-tree-'));
  root = path.join(work, 'a/b/bundle');
  await mkdir(path.join(root, 'autobuild/patches'), { recursive: true });
  await writeFile(path.join(root, 'spec'), 'VER=1\n');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('checkTree symlinks', () => {
  it('accepts links that stay inside, existing or not', async () => {
    await symlink('../spec', path.join(root, 'autobuild/spec-link'));
    await symlink('patches/not-yet', path.join(root, 'autobuild/later'));
    await symlink('autobuild', path.join(root, 'ab'));
    await symlink('ab/../spec', path.join(root, 'via-link'));
    expect(await checkTree(root, limits)).toMatchObject({ entries: 7 });
  });

  it('refuses a dangling link that would leave the bundle once a link on its way is followed', async () => {
    // `s` is the bundle itself, so `s/..` is the bundle's parent: lexically inside, really outside,
    // and dangling here, so realpath alone cannot see it.
    await symlink('.', path.join(root, 's'));
    await symlink('s/../../../../etc/shadow-of-another-place', path.join(root, 'evil'));
    expect(await asyncErrorOf(() => checkTree(root, limits))).toEqual({
      code: 'BUNDLE_UNSAFE',
      message: expect.stringContaining(
        '"evil": symlink to "s/../../../../etc/shadow-of-another-place" points outside the bundle',
      ),
    });
  });

  it('refuses `..` after a missing component, absolute targets and link loops', async () => {
    for (const [target, name] of [
      ['missing/../../x', 'm'],
      ['/etc/passwd', 'abs'],
      ['loop2', 'loop1'],
    ] as const) {
      await rm(path.join(root, 'autobuild', name), { force: true });
      if (name === 'loop1') await symlink('loop1', path.join(root, 'autobuild/loop2'));
      await symlink(target, path.join(root, 'autobuild', name));
      expect((await asyncErrorOf(() => checkTree(root, limits))).message, target).toMatch(/points outside the bundle/);
      await rm(path.join(root, 'autobuild', name));
      await rm(path.join(root, 'autobuild/loop2'), { force: true });
    }
  });
});
