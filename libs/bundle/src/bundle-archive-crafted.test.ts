import { describe, expect, it } from 'vitest';
import { extractBundleArchive } from './bundle-archive.ts';
import { SPEC, useExtractFixture } from '../test-support/extract-fixture.ts';
import { asyncErrorOf } from '../test-support/test-helpers.ts';
import { craftTar, pax, type Member } from '../test-support/test-tar.ts';

/** Hand-made tar archives (attacks GNU tar will not create) and bytes that are no tar: refused, nothing written. */
describe('extractBundleArchive', () => {
  const { dest, expectNothingWritten } = useExtractFixture();

  describe('refuses, writing nothing', () => {
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
            data: `${'a/'.repeat(60)}${'../'.repeat(57)}escaped\0`,
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
  });
});
