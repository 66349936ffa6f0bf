import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { readGroup } from './group-file.ts';
import { asyncErrorOf, fixtureTree } from '../test-support/test-helpers.ts';

describe('readGroup on the tree fixtures', () => {
  it('reads groups/core in order', async () => {
    const entries = await readGroup(fixtureTree, 'groups/core');
    expect(entries[0]).toEqual({ path: 'core-devel/linux+api', modifiers: '' });
    expect(entries.map((e) => e.path)).toEqual([
      'core-devel/linux+api',
      'core-libs/glibc',
      'core-libs/zlib',
      'core-libs/gmp',
      'core-libs/mpfr',
      'core-libs/mpc',
      'core-libs/isl',
      'core-libs/zstd',
      'core-devel/gcc',
      'core-misc/aosc-aaa',
    ]);
  });

  it('skips commented-out lines (groups/llvm-rebuilds)', async () => {
    const paths = (await readGroup(fixtureTree, 'groups/llvm-rebuilds')).map((e) => e.path);
    expect(paths).not.toContain('app-devel/intel-graphics-compiler');
    expect(paths).toHaveLength(10);
  });

  it('follows the per-arch variant symlink (groups/go-rebuilds.amd64 -> ./go-rebuilds)', async () => {
    expect(await readGroup(fixtureTree, 'groups/go-rebuilds', 'amd64')).toEqual(
      await readGroup(fixtureTree, 'groups/go-rebuilds'),
    );
  });
});

describe('readGroup: nesting, variants, modifiers, errors', () => {
  const tree = useTempDir('aoinb-groups-');

  beforeAll(async () => {
    const files: Record<string, string> = {
      'groups/base':
        'core-libs/glibc\n\n# a comment\ncore-devel/llvm:+stage2\ngroups/inner\ncore-libs/zlib # trailing comment\n',
      'groups/inner': 'app-utils/tree\ncore-libs/glibc\ngroups/leaf\n',
      'groups/leaf': 'core-libs/zlib\napp-admin/appstream\n',
      'groups/rebuilds': 'app-utils/tree\n',
      'groups/rebuilds.arm64': 'app-utils/tree\napp-editors/vscode\n',
      'groups/stub.riscv64': './rebuilds\n',
      'groups/stub': 'app-utils/never\n',
      'groups/cycle-a': 'app-utils/tree\ngroups/cycle-b\n',
      'groups/cycle-b': 'groups/cycle-a\n',
      'groups/self': 'groups/self\n',
      'groups/bad-line': 'app-utils/tree\njust-a-name\n',
      'groups/missing-nested': 'groups/nope\n',
      'groups/escape': 'groups/../../etc/passwd\n',
      'groups/dotdot': '../core-libs/zlib\n',
      'groups/bare': 'tree\ndotnet-host:+stage2\napp-utils/tree\n',
      'groups/ambiguous': 'zlib\n',
      'app-utils/tree/spec': 'VER=1\n',
      'core-libs/zlib/spec': 'VER=1\n',
      'app-utils/zlib/spec': 'VER=1\n',
      'lang-dotnet/dotnet/spec': 'VER=1\n',
      'lang-dotnet/dotnet/01-dotnet-host/defines': 'PKGNAME=dotnet-host\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tree.dir, rel)), { recursive: true });
      await writeFile(path.join(tree.dir, rel), text);
    }
    await symlink('/etc/hostname', path.join(tree.dir, 'groups/outside'));
  });

  it('expands nested groups in place, keeps modifiers, drops duplicates keeping the first', async () => {
    expect(await readGroup(tree.dir, 'groups/base')).toEqual([
      { path: 'core-libs/glibc', modifiers: '' },
      { path: 'core-devel/llvm', modifiers: '+stage2' },
      { path: 'app-utils/tree', modifiers: '' },
      { path: 'core-libs/zlib', modifiers: '' },
      { path: 'app-admin/appstream', modifiers: '' },
    ]);
  });

  it('prefers groups/NAME.<arch>', async () => {
    expect((await readGroup(tree.dir, 'groups/rebuilds', 'arm64')).map((e) => e.path)).toEqual([
      'app-utils/tree',
      'app-editors/vscode',
    ]);
    expect((await readGroup(tree.dir, 'groups/rebuilds', 'amd64')).map((e) => e.path)).toEqual(['app-utils/tree']);
  });

  it('reads a variant checked out without symlinks (text "./NAME")', async () => {
    expect((await readGroup(tree.dir, 'groups/stub', 'riscv64')).map((e) => e.path)).toEqual(['app-utils/tree']);
  });

  it('resolves bare package names by searching the tree, as acbs does (folder name, then split PKGNAME)', async () => {
    expect(await readGroup(tree.dir, 'groups/bare')).toEqual([
      { path: 'app-utils/tree', modifiers: '' },
      { path: 'lang-dotnet/dotnet', modifiers: '+stage2' },
    ]);
  });

  it.each([
    [
      'groups/cycle-a',
      'GROUP_INVALID',
      'groups/cycle-b:1: group nesting forms a cycle: groups/cycle-a -> groups/cycle-b -> groups/cycle-a',
    ],
    ['groups/self', 'GROUP_INVALID', 'groups/self:1: group nesting forms a cycle: groups/self -> groups/self'],
    ['groups/bad-line', 'GROUP_INVALID', 'groups/bad-line:2: no package named just-a-name in the tree TREE'],
    [
      'groups/ambiguous',
      'GROUP_INVALID',
      'groups/ambiguous:1: package name zlib is ambiguous, it is in app-utils/zlib and core-libs/zlib; ' +
        'write category/name',
    ],
    [
      'groups/dotdot',
      'GROUP_INVALID',
      'groups/dotdot:1: expected category/pkgname[:modifiers], pkgname or groups/NAME, got "../core-libs/zlib"',
    ],
    ['groups/missing-nested', 'GROUP_INVALID', 'groups/missing-nested:1: groups/nope does not exist'],
    [
      'groups/escape',
      'GROUP_INVALID',
      'groups/escape:1: expected category/pkgname[:modifiers], pkgname or groups/NAME, got "groups/../../etc/passwd"',
    ],
    ['groups/outside', 'GROUP_INVALID', 'groups/outside: points outside the tree'],
    ['groups/none', 'NOT_FOUND', 'groups/none: no such group in TREE'],
    ['core', 'USAGE', 'group must be written groups/NAME, got "core"'],
  ])('%s', async (group, code, message) => {
    expect(await asyncErrorOf(() => readGroup(tree.dir, group))).toEqual({
      code,
      message: message.replace('TREE', tree.dir),
    });
  });
});
