import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { DEFAULT_ARCHIVE_LIMITS } from './archive-validate.ts';
import { extractBundleArchive, tarFromFile, tarInMemory } from './bundle-archive.ts';
import { asyncErrorOf } from '../test-support/test-helpers.ts';
import { craftTar, pax } from '../test-support/test-tar.ts';

/** The two readers of an upload (in memory for bundle-sized plain/gzip archives, else from files) agree. */
describe('the archive readers', () => {
  const tmp = useTempDir('aoinb-archive-tar-');
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes: 64 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 };

  const plain = craftTar([
    { name: 'spec', data: 'VER=1.0\nDUMMYSRC=1\n' },
    { name: 'autobuild/', type: '5' },
    { name: 'autobuild/defines', data: 'PKGNAME=demo\nPKGSEC=utils\nPKGDES="Demo"\n' },
    { name: 'PaxHeader', type: 'x', data: pax({ path: `autobuild/${'long-'.repeat(30)}name` }) },
    { name: 'ignored', data: 'a long name' },
    { name: 'link', type: '2', linkname: 'spec' },
  ]);

  it.each([
    ['plain', plain],
    ['gzip', gzipSync(plain)],
  ])('read the same members of a %s tar', async (kind, archive) => {
    const file = path.join(tmp.dir, `a-${kind}`);
    await writeFile(file, archive);
    const memory = await tarInMemory(file, limits);
    const fromFile = await tarFromFile(file, tmp.dir, limits);
    expect(memory?.compression).toBe(kind === 'plain' ? 'none' : 'gzip');
    expect(memory?.entries).toEqual(fromFile.entries);
    expect(memory?.entries.map((e) => e.name)).toContain(`autobuild/${'long-'.repeat(30)}name`);
    expect(Buffer.compare(memory!.tar as Buffer, await readFile(fromFile.tar as string))).toBe(0);
  });

  it('refuse a truncated tar alike', async () => {
    const cut = plain.subarray(0, 512 + 100);
    const file = path.join(tmp.dir, 'cut');
    await writeFile(file, cut);
    const memory = await asyncErrorOf(() => tarInMemory(file, limits));
    const fromFile = await asyncErrorOf(() => tarFromFile(file, tmp.dir, limits));
    expect(memory).toMatchObject({ code: 'BUNDLE_INVALID', message: fromFile.message });
  });

  it('leave large archives and xz to the file reader, which still extracts them', async () => {
    const big = gzipSync(
      craftTar([
        { name: 'spec', data: 'VER=1.0\nDUMMYSRC=1\n' },
        { name: 'blob', data: randomBytes(9 << 20) },
      ]),
    );
    const file = path.join(tmp.dir, 'big.tar.gz');
    await writeFile(file, big);
    expect(await tarInMemory(file, limits)).toBeUndefined();
    expect(await tarInMemory(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]), limits)).toBeUndefined();
    const out = await extractBundleArchive(file, path.join(tmp.dir, 'big'), limits);
    expect(out.compression).toBe('gzip');
    expect((await readFile(path.join(tmp.dir, 'big/blob'))).length).toBe(9 << 20);
  });
});
