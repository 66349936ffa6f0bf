import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extractBundleArchive, packBundle } from './bundle-archive.ts';
import { loadBundle } from './load-bundle.ts';
import { asyncErrorOf, fixtureTree } from '../test-support/test-helpers.ts';
import { craftTar, pax, type Member } from '../test-support/test-tar.ts';

const SPEC = 'VER=1.0\nDUMMYSRC=1\n';
const DEFINES = 'PKGNAME=demo\nPKGSEC=utils\nPKGDES="Demo"\n';

describe('extractBundleArchive', () => {
  let work: string;
  let out: string;
  let passwdBefore: { mtimeMs: number; size: number };

  const tar = (...args: string[]): void => {
    execFileSync('tar', args, { cwd: work, stdio: 'pipe' });
  };

  /** A fresh destination inside `out`; nothing else may ever appear in `out`. */
  const dest = (name: string): string => path.join(out, name);

  async function makeBundleDir(rel: string): Promise<string> {
    const dir = path.join(work, rel);
    await mkdir(path.join(dir, 'autobuild'), { recursive: true });
    await writeFile(path.join(dir, 'spec'), SPEC);
    await writeFile(path.join(dir, 'autobuild/defines'), DEFINES);
    await writeFile(path.join(dir, 'autobuild/build'), 'abinfo hi\n');
    return dir;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'aoinb-archive-'));
    await makeBundleDir('good/pkg');
    const st = await stat('/etc/passwd');
    passwdBefore = { mtimeMs: st.mtimeMs, size: st.size };
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    out = path.join(work, `out-${Math.random().toString(36).slice(2)}`);
    await mkdir(out);
  });

  async function expectNothingWritten(): Promise<void> {
    expect(await readdir(out)).toEqual([]);
    expect(existsSync(path.join(work, 'escaped'))).toBe(false);
    expect(existsSync('/escaped')).toBe(false);
    expect(existsSync('/tmp/aoinb-escaped')).toBe(false);
    const st = await stat('/etc/passwd');
    expect({ mtimeMs: st.mtimeMs, size: st.size }).toEqual(passwdBefore);
  }

  describe('accepts', () => {
    it.each([
      ['plain tar, bundle at the root', ['-cf', 'a.tar', '-C', 'good/pkg', '.'], 'a.tar', 'none'],
      ['gzip, one top folder', ['-czf', 'a.tgz', '-C', 'good', 'pkg'], 'a.tgz', 'gzip'],
      ['xz', ['-cJf', 'a.txz', '-C', 'good/pkg', 'spec', 'autobuild'], 'a.txz', 'xz'],
      ['zstd', ['--zstd', '-cf', 'a.tzst', '-C', 'good', 'pkg'], 'a.tzst', 'zstd'],
    ])('%s', async (_label, args, file, compression) => {
      tar(...args);
      const result = await extractBundleArchive(path.join(work, file), dest('bundle'));
      expect(result).toMatchObject({
        dir: dest('bundle'),
        compression,
        bytes: SPEC.length + DEFINES.length + 'abinfo hi\n'.length,
      });
      expect(await readdir(out)).toEqual(['bundle']);
      expect(await readFile(path.join(dest('bundle'), 'spec'), 'utf8')).toBe(SPEC);
      expect((await loadBundle(dest('bundle'), 'amd64')).mainPackage.name).toBe('demo');
    });

    it('an archive given as bytes, with symlinks that stay inside and a hard link', async () => {
      const dir = await makeBundleDir('links/pkg');
      await symlink('../spec', path.join(dir, 'autobuild/spec-link'));
      await link(path.join(dir, 'autobuild/build'), path.join(dir, 'autobuild/build2'));
      tar('-czf', 'links.tgz', '-C', 'links', 'pkg');
      await extractBundleArchive(await readFile(path.join(work, 'links.tgz')), dest('b'));
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
      await extractBundleArchive(path.join(work, 'same.tar'), dest('ours'));
      await mkdir(dest('gnu'));
      execFileSync('tar', ['-xf', path.join(work, 'same.tar'), '-C', dest('gnu'), '--no-same-permissions'], {
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
      await extractBundleArchive(path.join(work, 'suid.tar'), dest('b'));
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

  describe('refuses, writing nothing', () => {
    it('a symlink to /etc/passwd', async () => {
      const dir = await makeBundleDir('evil-link/pkg');
      await symlink('/etc/passwd', path.join(dir, 'autobuild/passwd'));
      tar('-czf', 'evil-link.tgz', '-C', 'evil-link', 'pkg');
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(work, 'evil-link.tgz'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"pkg/autobuild/passwd": symlink to "/etc/passwd" points outside the bundle',
      });
      await expectNothingWritten();
    });

    it('a relative symlink that climbs out of the bundle folder', async () => {
      const dir = await makeBundleDir('evil-rel/pkg');
      await symlink('../../outside', path.join(dir, 'autobuild/up'));
      tar('-cf', 'evil-rel.tar', '-C', 'evil-rel', 'pkg');
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(work, 'evil-rel.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"pkg/autobuild/up": symlink to "../../outside" points outside the bundle folder pkg/',
      });
      await expectNothingWritten();
    });

    it('a ../x entry', async () => {
      await makeBundleDir('dotdot/inner');
      await writeFile(path.join(work, 'dotdot/escaped'), 'x');
      execFileSync('tar', ['-cPf', '../../dotdot.tar', 'spec', 'autobuild', '../escaped'], {
        cwd: path.join(work, 'dotdot/inner'),
        stdio: 'pipe',
      });
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(work, 'dotdot.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"../escaped": `..` path components are not allowed',
      });
      await expectNothingWritten();
    });

    it('an absolute path', async () => {
      await writeFile('/tmp/aoinb-escaped', 'x');
      try {
        execFileSync(
          'tar',
          ['-cPf', path.join(work, 'abs.tar'), '-C', path.join(work, 'good/pkg'), 'spec', '/tmp/aoinb-escaped'],
          { stdio: 'pipe' },
        );
      } finally {
        await rm('/tmp/aoinb-escaped');
      }
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(work, 'abs.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"/tmp/aoinb-escaped": absolute paths are not allowed',
      });
      await expectNothingWritten();
    });

    it('a device node made with mknod, and a fifo', async () => {
      const dir = await makeBundleDir('dev/pkg');
      execFileSync('mknod', [path.join(dir, 'autobuild/null'), 'c', '1', '3']);
      tar('-cf', 'dev.tar', '-C', 'dev', 'pkg');
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(work, 'dev.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"pkg/autobuild/null": chardev entries are not allowed',
      });
      const fifoDir = await makeBundleDir('fifo/pkg');
      execFileSync('mkfifo', [path.join(fifoDir, 'autobuild/pipe')]);
      tar('-cf', 'fifo.tar', '-C', 'fifo', 'pkg');
      expect((await asyncErrorOf(() => extractBundleArchive(path.join(work, 'fifo.tar'), dest('b')))).message).toBe(
        '"pkg/autobuild/pipe": fifo entries are not allowed',
      );
      await expectNothingWritten();
    });

    it('contents over the size limit, naming the entry', async () => {
      const dir = await makeBundleDir('big/pkg');
      await writeFile(path.join(dir, 'autobuild/blob'), Buffer.alloc(2 * 1024 * 1024, 7));
      tar('-czf', 'big.tgz', '-C', 'big', 'pkg');
      expect(
        await asyncErrorOf(() =>
          extractBundleArchive(path.join(work, 'big.tgz'), dest('b'), { maxBytes: 1024 * 1024 }),
        ),
      ).toEqual({
        code: 'BUNDLE_TOO_LARGE',
        message: '"pkg/autobuild/blob": archive contents exceed 1048576 bytes',
      });
      await expectNothingWritten();
    });

    it('an upload over the archive size limit', async () => {
      tar('-cf', 'plain.tar', '-C', 'good/pkg', '.');
      const size = (await stat(path.join(work, 'plain.tar'))).size;
      expect(
        await asyncErrorOf(() =>
          extractBundleArchive(path.join(work, 'plain.tar'), dest('b'), { maxArchiveBytes: 1000 }),
        ),
      ).toEqual({
        code: 'BUNDLE_TOO_LARGE',
        message: `archive is ${size} bytes (limit 1000)`,
      });
      await expectNothingWritten();
    });

    it('a decompression bomb', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      expect(bomb.length).toBeLessThan(200 * 1024);
      expect(
        await asyncErrorOf(() => extractBundleArchive(bomb, dest('b'), { maxBytes: 1024 * 1024, maxEntries: 100 })),
      ).toEqual({
        code: 'BUNDLE_TOO_LARGE',
        message: `archive decompresses to more than ${1024 * 1024 + 104 * 3 * 512 + 1024 * 1024} bytes`,
      });
      await expectNothingWritten();
    });

    it('too many entries', async () => {
      const dir = await makeBundleDir('many/pkg');
      for (let i = 0; i < 30; i++) await writeFile(path.join(dir, `autobuild/f${i}`), '');
      tar('-cf', 'many.tar', '-C', 'many', 'pkg');
      expect(
        await asyncErrorOf(() => extractBundleArchive(path.join(work, 'many.tar'), dest('b'), { maxEntries: 10 })),
      ).toEqual({
        code: 'BUNDLE_TOO_LARGE',
        message: expect.stringMatching(/^archive holds more than 10 entries \(at pkg\//),
      });
      await expectNothingWritten();
    });

    it.each<[string, Member[], string, string]>([
      [
        'a hard link to a file outside',
        [
          { name: 'spec', data: SPEC },
          { name: 'passwd', type: '1', linkname: '/etc/passwd' },
        ],
        'BUNDLE_UNSAFE',
        '"passwd": hard link to "/etc/passwd" points outside the bundle',
      ],
      [
        'a hard link that climbs',
        [
          { name: 'spec', data: SPEC },
          { name: 'h', type: '1', linkname: '../escaped' },
        ],
        'BUNDLE_UNSAFE',
        '"h": hard link to "../escaped" points outside the bundle',
      ],
      [
        'a hard link to a later or missing member',
        [
          { name: 'spec', data: SPEC },
          { name: 'h', type: '1', linkname: 'autobuild/defines' },
        ],
        'BUNDLE_UNSAFE',
        '"h": hard link to "autobuild/defines", which is not an earlier file of the archive',
      ],
      [
        'a file written through an earlier symlink',
        [
          { name: 'spec', data: SPEC },
          { name: 'd', type: '2', linkname: 'autobuild' },
          { name: 'd/x', data: 'x' },
        ],
        'BUNDLE_UNSAFE',
        '"d/x": is inside d, which is a symlink, not a folder',
      ],
      [
        'a symlink replacing a folder already written',
        [
          { name: 'spec', data: SPEC },
          { name: 'a/x', data: 'x' },
          { name: 'a', type: '2', linkname: '.' },
        ],
        'BUNDLE_UNSAFE',
        '"a": appears more than once in the archive',
      ],
      [
        'a file given twice',
        [
          { name: 'spec', data: SPEC },
          { name: 'spec', data: 'VER=2\n' },
        ],
        'BUNDLE_UNSAFE',
        '"spec": appears more than once in the archive',
      ],
      [
        'a pax header renaming a member to ../x',
        [
          { name: 'spec', data: SPEC },
          { name: 'PaxHeader', type: 'x', data: pax({ path: '../escaped' }) },
          { name: 'innocent', data: 'x' },
        ],
        'BUNDLE_UNSAFE',
        '"../escaped": `..` path components are not allowed',
      ],
      [
        'a GNU long name with ..',
        [
          { name: 'spec', data: SPEC },
          {
            name: '././@LongLink',
            type: 'L',
            data: `${'a/'.repeat(60)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../escaped\0`,
          },
          { name: 'short', data: 'x' },
        ],
        'BUNDLE_UNSAFE',
        '`..` path components are not allowed',
      ],
      [
        'a GNU sparse member',
        [
          { name: 'spec', data: SPEC },
          { name: 'sparse', type: 'S' },
        ],
        'BUNDLE_UNSAFE',
        '"sparse": tar entry type "S" is not supported',
      ],
      [
        'a pax header key that changes meaning',
        [
          { name: 'spec', data: SPEC },
          { name: 'PaxHeader', type: 'x', data: pax({ 'GNU.sparse.name': 'x' }) },
          { name: 'f', data: 'x' },
        ],
        'BUNDLE_UNSAFE',
        'pax header key "GNU.sparse.name" is not supported',
      ],
      [
        'a star-format header',
        [{ name: 'spec', data: SPEC, star: true }],
        'BUNDLE_UNSAFE',
        'star-format archives are not supported (header at byte 0)',
      ],
      [
        'a GNU long name and a pax path on one member',
        [
          { name: 'x', type: 'x', data: pax({ path: 'a' }) },
          { name: 'l', type: 'L', data: 'b\0' },
          { name: 'spec', data: SPEC },
        ],
        'BUNDLE_UNSAFE',
        'has both a GNU long name and a pax path',
      ],
      [
        'a symlink entry that carries data',
        [
          { name: 'spec', data: SPEC },
          { name: 'l', type: '2', linkname: 'spec', data: 'payload' },
        ],
        'BUNDLE_UNSAFE',
        '"l": a symlink entry that carries 7 bytes of data is not supported',
      ],
      [
        'a block device',
        [
          { name: 'spec', data: SPEC },
          { name: 'sda', type: '4' },
        ],
        'BUNDLE_UNSAFE',
        '"sda": blockdev entries are not allowed',
      ],
      [
        'no spec at the root or in a single folder',
        [
          { name: 'a/spec', data: SPEC },
          { name: 'b/spec', data: SPEC },
        ],
        'BUNDLE_INVALID',
        'no spec file at the archive root, and the archive has 2 top-level entries instead of one folder',
      ],
      [
        'a single folder without spec',
        [
          { name: 'pkg/', type: '5' },
          { name: 'pkg/README', data: 'x' },
        ],
        'BUNDLE_INVALID',
        'no spec file at the archive root or in pkg/',
      ],
    ])('%s', async (_label, members, code, message) => {
      const result = await asyncErrorOf(() => extractBundleArchive(craftTar(members), dest('b')));
      expect(result.code).toBe(code);
      expect(result.message).toContain(message);
      await expectNothingWritten();
    });

    it('something that is not a tar at all, and bzip2', async () => {
      expect(
        await asyncErrorOf(() =>
          extractBundleArchive(Buffer.from('hello world, not an archive'.repeat(40)), dest('b')),
        ),
      ).toEqual({
        code: 'BUNDLE_INVALID',
        message: expect.stringMatching(/^not a tar archive/),
      });
      const corrupt = craftTar([{ name: 'spec', data: SPEC }]);
      corrupt[0] = 'x'.charCodeAt(0);
      expect(await asyncErrorOf(() => extractBundleArchive(corrupt, dest('b')))).toEqual({
        code: 'BUNDLE_INVALID',
        message: 'not a tar archive (bad header checksum at byte 0)',
      });
      expect((await asyncErrorOf(() => extractBundleArchive(Buffer.from('BZh91AY&SY'), dest('b')))).message).toBe(
        'bzip2 archives are not accepted; use a plain, gzip, xz or zstd tar',
      );
      expect(
        (await asyncErrorOf(() => extractBundleArchive(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), dest('b')))).code,
      ).toBe('BUNDLE_INVALID');
      await expectNothingWritten();
    });

    it('a destination that already exists', async () => {
      tar('-cf', 'ok.tar', '-C', 'good/pkg', '.');
      await mkdir(dest('b'));
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(work, 'ok.tar'), dest('b')))).toEqual({
        code: 'CONFLICT',
        message: `${dest('b')} already exists`,
      });
      expect(await readdir(out)).toEqual(['b']);
      expect(await readdir(dest('b'))).toEqual([]);
    });
  });
});

describe('packBundle', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'aoinb-pack-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('packs a bundle that extracts back to the same files', async () => {
    const data = await packBundle(path.join(fixtureTree, 'app-admin/appstream'));
    expect(data.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const dest = path.join(work, 'appstream');
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
    expect((await asyncErrorOf(() => packBundle(work))).message).toBe(`${work}: no spec file; not a bundle folder`);
    const dir = path.join(work, 'evil');
    await mkdir(dir);
    await writeFile(path.join(dir, 'spec'), SPEC);
    await symlink('/etc/shadow', path.join(dir, 'shadow'));
    expect(await asyncErrorOf(() => packBundle(dir))).toEqual({
      code: 'BUNDLE_UNSAFE',
      message: '"shadow": symlink to "/etc/shadow" points outside the bundle',
    });
  });
});
