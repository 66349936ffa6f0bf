import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { loadBundle } from './load-bundle.ts';
import { checkPathComponent, checkRelativePath, isInside, joinInside } from './safe-path.ts';
import { asyncErrorOf, errorOf } from '../test-support/test-helpers.ts';

describe('the one path rule', () => {
  it('accepts single names and refuses everything that is not one, naming key and value', () => {
    expect(checkPathComponent('hello-1.0.tar.gz', 'rename=')).toBe('hello-1.0.tar.gz');
    for (const [value, why] of [
      ['', 'is empty'],
      ['.', 'is not a name (`.` and `..` are refused)'],
      ['..', 'is not a name (`.` and `..` are refused)'],
      ['../x', 'must be a single name, without `/`'],
      ['a/b', 'must be a single name, without `/`'],
      ['a\nb', 'contains control characters'],
      ['a\0b', 'contains control characters'],
      ['x'.repeat(256), 'is longer than 255 bytes'],
    ]) {
      expect(errorOf(() => checkPathComponent(value as string, 'spec: SRCS rename='))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: `spec: SRCS rename= ${JSON.stringify(value)}: ${why}`,
      });
    }
  });

  it('accepts relative paths that stay inside and normalises them', () => {
    expect(checkRelativePath('llvm-project-1.src/llvm', 'SUBDIR')).toBe('llvm-project-1.src/llvm');
    expect(checkRelativePath('.', 'SUBDIR')).toBe('');
    expect(checkRelativePath('./a//b/', 'SUBDIR')).toBe('a/b');
    expect(errorOf(() => checkRelativePath('/etc', 'SUBDIR')).message).toBe(
      'SUBDIR "/etc": must be a relative path, not an absolute one',
    );
    expect(errorOf(() => checkRelativePath('a/../../b', 'SUBDIR')).message).toBe(
      'SUBDIR "a/../../b": must stay inside its folder (`..` is refused)',
    );
    expect(errorOf(() => checkRelativePath('a/b\tc', 'SUBDIR')).message).toContain(
      'component "b\\tc" contains control characters',
    );
    expect(joinInside('/w/src', './x/y', 'SUBDIR')).toBe('/w/src/x/y');
    expect(isInside('/w/src', '/w/src/..x')).toBe(true);
    expect(isInside('/w/src', '/w/srcx')).toBe(false);
    expect(isInside('/w/src', '/w')).toBe(false);
  });
});

describe('loadBundle applies it to PKGNAME, SUBDIR, rename= and package folders', () => {
  const tmp = useTempDir('aoinb-safe-');
  const bundle = async (name: string, spec: string): Promise<string> => {
    const root = path.join(tmp.dir, name);
    await mkdir(path.join(root, 'autobuild'), { recursive: true });
    await writeFile(path.join(root, 'spec'), spec);
    await writeFile(path.join(root, 'autobuild/defines'), 'PKGNAME=hello\nPKGSEC=utils\nPKGDES="x"\n');
    return root;
  };

  it('refuses a rename= with a path, naming the file and key', async () => {
    const root = await bundle(
      'rename',
      'VER=1\nSRCS="tbl::rename=../../x::https://example.org/a.tar.gz"\nCHKSUMS="SKIP"\n',
    );
    expect(await asyncErrorOf(() => loadBundle(root, 'amd64'))).toEqual({
      code: 'BUNDLE_UNSAFE',
      message: 'spec: SRCS (source 1) rename= "../../x": must be a single name, without `/`',
    });
  });

  it('refuses a SUBDIR with control characters and accepts SUBDIR=.', async () => {
    const bad = await bundle('subdir', 'VER=1\nSUBDIR="a\nb"\nDUMMYSRC=1\n');
    expect((await asyncErrorOf(() => loadBundle(bad, 'amd64'))).message).toMatch(
      /SUBDIR "a\\nb": component "a\\nb" contains control characters/,
    );
    const dot = await bundle('dot', 'VER=1\nSUBDIR=.\nDUMMYSRC=1\n');
    expect((await loadBundle(dot, 'amd64')).spec.subdir).toBe('.');
  });
});
