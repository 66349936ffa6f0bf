import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { fakeBundleFiles, writeFakeBundle, writeFakeBundleAt } from './fake-bundle.ts';

const tmp = useTempDir('aoinb-testkit-fake-bundle-');

const read = (dir: string, file: string): Promise<string> => readFile(path.join(dir, file), 'utf8');

describe('writeFakeBundle', () => {
  it('writes spec and defines in a new folder under a root it creates, fake-build.json only when asked', async () => {
    const root = path.join(tmp.dir, 'not/yet/there');
    const dir = await writeFakeBundle(root, { name: 'plain' });
    expect(path.dirname(dir)).toBe(root);
    expect(path.basename(dir)).toMatch(/^plain-/);
    expect((await readdir(dir)).sort()).toEqual(['autobuild', 'spec']);
    expect(await read(dir, 'spec')).toBe('VER=1.0\nDUMMYSRC=1\n');
    expect(await read(dir, 'autobuild/defines')).toBe(
      'PKGNAME=plain\nPKGSEC=utils\nPKGDES="plain, a fake bundle for tests"\n',
    );
  });

  it('takes the version, extra defines and what the fake executor does; each call a folder of its own', async () => {
    const bundle = { name: 'fancy', version: '2.3', defines: ['ABHOST=noarch'], fake: { fail: 'on purpose' } };
    const [one, two] = [await writeFakeBundle(tmp.dir, bundle), await writeFakeBundle(tmp.dir, bundle)];
    expect(one).not.toBe(two);
    expect(await read(one, 'spec')).toBe('VER=2.3\nDUMMYSRC=1\n');
    expect((await read(one, 'autobuild/defines')).split('\n')).toContain('ABHOST=noarch');
    expect(JSON.parse(await read(two, 'fake-build.json'))).toEqual({ fail: 'on purpose' });
  });

  it('writes into a given folder, with autobuild/build when given; the same files fakeBundleFiles lists', async () => {
    const bundle = { name: 'real', defines: ['ABSPLITDBG=0'], build: ['abinfo one', 'abinfo two'] };
    const dir = await writeFakeBundleAt(path.join(tmp.dir, 'tree/app-utils/real'), bundle);
    expect(dir).toBe(path.join(tmp.dir, 'tree/app-utils/real'));
    expect(await read(dir, 'autobuild/build')).toBe('abinfo one\nabinfo two\n');
    const files = fakeBundleFiles(bundle);
    expect(Object.keys(files)).toEqual(['spec', 'autobuild/defines', 'autobuild/build']);
    for (const [file, content] of Object.entries(files)) expect(await read(dir, file)).toBe(content);
  });
});
