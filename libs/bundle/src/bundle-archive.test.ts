import { execFileSync } from 'node:child_process';
import {
  chmod,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { extractBundleArchive, packBundle } from './bundle-archive.ts';
import { loadBundle } from './load-bundle.ts';
import { DEFINES, SPEC, useExtractFixture } from '../test-support/extract-fixture.ts';
import { asyncErrorOf, fixtureTree } from '../test-support/test-helpers.ts';
import { craftTar, pax } from '../test-support/test-tar.ts';

/** Archives extractBundleArchive takes (GNU tar's, and what git archive writes), and packBundle's own. */
describe('extractBundleArchive', () => {
  const fx = useExtractFixture();
  const { tar, dest, makeBundleDir } = fx;

  describe('accepts', () => {
    it.each([
      ['plain tar, bundle at the root', ['-cf', 'a.tar', '-C', 'good/pkg', '.'], 'a.tar', 'none'],
      ['gzip, one top folder', ['-czf', 'a.tgz', '-C', 'good', 'pkg'], 'a.tgz', 'gzip'],
      ['xz', ['-cJf', 'a.txz', '-C', 'good/pkg', 'spec', 'autobuild'], 'a.txz', 'xz'],
      ['zstd', ['--zstd', '-cf', 'a.tzst', '-C', 'good', 'pkg'], 'a.tzst', 'zstd'],
    ])('%s', async (_label, args, file, compression) => {
      tar(...args);
      const result = await extractBundleArchive(path.join(fx.work, file), dest('bundle'));
      expect(result).toMatchObject({
        dir: dest('bundle'),
        compression,
        bytes: SPEC.length + DEFINES.length + 'abinfo hi\n'.length,
      });
      expect(await readdir(fx.out)).toEqual(['bundle']);
      expect(await readFile(path.join(dest('bundle'), 'spec'), 'utf8')).toBe(SPEC);
      expect((await loadBundle(dest('bundle'), 'amd64')).mainPackage.name).toBe('demo');
    });

    it('an archive given as bytes, with symlinks that stay inside and a hard link', async () => {
      const dir = await makeBundleDir('links/pkg');
      await symlink('../spec', path.join(dir, 'autobuild/spec-link'));
      await link(path.join(dir, 'autobuild/build'), path.join(dir, 'autobuild/build2'));
      tar('-czf', 'links.tgz', '-C', 'links', 'pkg');
      await extractBundleArchive(await readFile(path.join(fx.work, 'links.tgz')), dest('b'));
      expect(await readFile(path.join(dest('b'), 'autobuild/spec-link'), 'utf8')).toBe(SPEC);
      expect(await readFile(path.join(dest('b'), 'autobuild/build2'), 'utf8')).toBe('abinfo hi\n');
    });

    it('writes what GNU tar would: modes (umask 022), times, links, a read-only folder with members', async () => {
      const dir = await makeBundleDir('same/pkg');
      await mkdir(path.join(dir, 'autobuild/patches'));
      await writeFile(path.join(dir, 'autobuild/patches/0001-fix.patch'), 'diff\n');
      await chmod(path.join(dir, 'autobuild/build'), 0o700);
      await chmod(path.join(dir, 'autobuild/patches/0001-fix.patch'), 0o664);
      await link(path.join(dir, 'spec'), path.join(dir, 'spec-hard'));
      await symlink('autobuild/defines', path.join(dir, 'defines-link'));
      await utimes(path.join(dir, 'autobuild/defines'), 1_000_000_000, 1_000_000_000);
      await utimes(path.join(dir, 'autobuild/patches'), 1_100_000_000, 1_100_000_000);
      await chmod(path.join(dir, 'autobuild/patches'), 0o555);
      tar('-cf', 'same.tar', '-C', 'same/pkg', '.');
      await extractBundleArchive(path.join(fx.work, 'same.tar'), dest('ours'));
      await mkdir(dest('gnu'));
      execFileSync('tar', ['-xf', path.join(fx.work, 'same.tar'), '-C', dest('gnu'), '--no-same-permissions'], {
        stdio: 'pipe',
      });
      const describeTree = async (root: string): Promise<string[]> => {
        const rows: string[] = [];
        for (const rel of [
          'spec',
          'spec-hard',
          'defines-link',
          'autobuild',
          'autobuild/build',
          'autobuild/defines',
          'autobuild/patches',
          'autobuild/patches/0001-fix.patch',
        ]) {
          const st = await lstat(path.join(root, rel));
          const what = st.isSymbolicLink()
            ? `-> ${await readlink(path.join(root, rel))}`
            : `${st.mode.toString(8)} ${st.nlink}`;
          rows.push(
            `${rel} ${what} ${st.isSymbolicLink() || (st.isDirectory() && rel === 'autobuild') ? '' : st.mtimeMs}`,
          );
        }
        return rows;
      };
      const ours = await describeTree(dest('ours'));
      expect(ours).toEqual(await describeTree(dest('gnu')));
      expect(ours).toContain('autobuild/patches 40555 2 1100000000000');
      expect(ours).toContain('autobuild/defines 100644 1 1000000000000');
      await chmod(path.join(dir, 'autobuild/patches'), 0o755);
      for (const d of [dest('ours'), dest('gnu')]) await chmod(path.join(d, 'autobuild/patches'), 0o755);
    });

    it('clears set-id bits', async () => {
      const dir = await makeBundleDir('suid/pkg');
      await chmod(path.join(dir, 'autobuild/build'), 0o4755);
      tar('-cf', 'suid.tar', '-C', 'suid/pkg', '.');
      await extractBundleArchive(path.join(fx.work, 'suid.tar'), dest('b'));
      expect((await stat(path.join(dest('b'), 'autobuild/build'))).mode & 0o7000).toBe(0);
    });

    it('a git-archive style global pax header with only a comment', async () => {
      const archive = craftTar([
        { name: 'pax_global_header', type: 'g', data: pax({ comment: 'deadbeef' }) },
        { name: 'spec', data: SPEC },
        { name: 'autobuild/', type: '5', mode: 0o755 },
        { name: 'autobuild/defines', data: DEFINES },
      ]);
      await extractBundleArchive(archive, dest('b'));
      expect(await readdir(dest('b'))).toEqual(['autobuild', 'spec']);
    });
  });
});

describe('packBundle', () => {
  const work = useTempDir('aoinb-pack-');

  it('packs a bundle that extracts back to the same files', async () => {
    const data = await packBundle(path.join(fixtureTree, 'app-admin/appstream'));
    expect(data.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const dest = path.join(work.dir, 'appstream');
    await extractBundleArchive(data, dest);
    const b = await loadBundle(dest, 'amd64');
    expect(b.packages.map((p) => p.name)).toEqual(['appstream', 'appstream-qt']);
    expect(await readFile(path.join(dest, '02-appstream-qt/build'), 'utf8')).toBe(
      await readFile(path.join(fixtureTree, 'app-admin/appstream/02-appstream-qt/build'), 'utf8'),
    );
  });

  it('is deterministic', async () => {
    const a = await packBundle(path.join(fixtureTree, 'app-utils/tree'));
    const list = execFileSync('tar', ['-tzvf', '-', '--numeric-owner'], { input: a, encoding: 'utf8' });
    expect(list).toMatch(/0\/0/);
    expect(list).toContain('./autobuild/defines');
  });

  it('refuses a folder without spec, and links out of the folder', async () => {
    expect((await asyncErrorOf(() => packBundle(work.dir))).message).toBe(
      `${work.dir}: no spec file; not a bundle folder`,
    );
    const dir = path.join(work.dir, 'evil');
    await mkdir(dir);
    await writeFile(path.join(dir, 'spec'), SPEC);
    await symlink('/etc/shadow', path.join(dir, 'shadow'));
    expect(await asyncErrorOf(() => packBundle(dir))).toEqual({
      code: 'BUNDLE_UNSAFE',
      message: '"shadow": symlink to "/etc/shadow" points outside the bundle',
    });
  });
});
