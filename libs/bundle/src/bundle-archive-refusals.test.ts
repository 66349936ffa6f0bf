import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractBundleArchive } from './bundle-archive.ts';
import { useExtractFixture } from '../test-support/extract-fixture.ts';
import { asyncErrorOf } from '../test-support/test-helpers.ts';

/** Archives GNU tar makes from hostile bundle folders, and uploads over a limit: refused, nothing written. */
describe('extractBundleArchive', () => {
  const fx = useExtractFixture();
  const { tar, dest, makeBundleDir, expectNothingWritten } = fx;

  describe('refuses, writing nothing', () => {
    it('a symlink to /etc/passwd', async () => {
      const dir = await makeBundleDir('evil-link/pkg');
      await symlink('/etc/passwd', path.join(dir, 'autobuild/passwd'));
      tar('-czf', 'evil-link.tgz', '-C', 'evil-link', 'pkg');
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'evil-link.tgz'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"pkg/autobuild/passwd": symlink to "/etc/passwd" points outside the bundle',
      });
      await expectNothingWritten();
    });

    it('a relative symlink that climbs out of the bundle folder', async () => {
      const dir = await makeBundleDir('evil-rel/pkg');
      await symlink('../../outside', path.join(dir, 'autobuild/up'));
      tar('-cf', 'evil-rel.tar', '-C', 'evil-rel', 'pkg');
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'evil-rel.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"pkg/autobuild/up": symlink to "../../outside" points outside the bundle folder pkg/',
      });
      await expectNothingWritten();
    });

    it('a ../x entry', async () => {
      await makeBundleDir('dotdot/inner');
      await writeFile(path.join(fx.work, 'dotdot/escaped'), 'x');
      execFileSync('tar', ['-cPf', '../../dotdot.tar', 'spec', 'autobuild', '../escaped'], {
        cwd: path.join(fx.work, 'dotdot/inner'),
        stdio: 'pipe',
      });
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'dotdot.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"../escaped": `..` path components are not allowed',
      });
      await expectNothingWritten();
    });

    it('an absolute path', async () => {
      await writeFile(fx.absoluteVictim, 'x');
      try {
        execFileSync(
          'tar',
          ['-cPf', path.join(fx.work, 'abs.tar'), '-C', path.join(fx.work, 'good/pkg'), 'spec', fx.absoluteVictim],
          { stdio: 'pipe' },
        );
      } finally {
        await rm(fx.absoluteVictim);
      }
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'abs.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: `"${fx.absoluteVictim}": absolute paths are not allowed`,
      });
      await expectNothingWritten();
    });

    it('a device node made with mknod, and a fifo', async () => {
      const dir = await makeBundleDir('dev/pkg');
      execFileSync('mknod', [path.join(dir, 'autobuild/null'), 'c', '1', '3']);
      tar('-cf', 'dev.tar', '-C', 'dev', 'pkg');
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'dev.tar'), dest('b')))).toEqual({
        code: 'BUNDLE_UNSAFE',
        message: '"pkg/autobuild/null": chardev entries are not allowed',
      });
      const fifoDir = await makeBundleDir('fifo/pkg');
      execFileSync('mkfifo', [path.join(fifoDir, 'autobuild/pipe')]);
      tar('-cf', 'fifo.tar', '-C', 'fifo', 'pkg');
      expect((await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'fifo.tar'), dest('b')))).message).toBe(
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
          extractBundleArchive(path.join(fx.work, 'big.tgz'), dest('b'), { maxBytes: 1024 * 1024 }),
        ),
      ).toEqual({
        code: 'BUNDLE_TOO_LARGE',
        message: '"pkg/autobuild/blob": archive contents exceed 1048576 bytes',
      });
      await expectNothingWritten();
    });

    it('an upload over the archive size limit', async () => {
      tar('-cf', 'plain.tar', '-C', 'good/pkg', '.');
      const size = (await stat(path.join(fx.work, 'plain.tar'))).size;
      expect(
        await asyncErrorOf(() =>
          extractBundleArchive(path.join(fx.work, 'plain.tar'), dest('b'), { maxArchiveBytes: 1000 }),
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
        await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'many.tar'), dest('b'), { maxEntries: 10 })),
      ).toEqual({
        code: 'BUNDLE_TOO_LARGE',
        message: expect.stringMatching(/^archive holds more than 10 entries \(at pkg\//),
      });
      await expectNothingWritten();
    });

    it('a destination that already exists', async () => {
      tar('-cf', 'ok.tar', '-C', 'good/pkg', '.');
      await mkdir(dest('b'));
      expect(await asyncErrorOf(() => extractBundleArchive(path.join(fx.work, 'ok.tar'), dest('b')))).toEqual({
        code: 'CONFLICT',
        message: `${dest('b')} already exists`,
      });
      expect(await readdir(fx.out)).toEqual(['b']);
      expect(await readdir(dest('b'))).toEqual([]);
    });
  });
});
