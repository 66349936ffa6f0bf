import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchDebianOrig, findOrigInSources } from './debian-orig-sources.ts';
import { readDebianMirror } from './debian-mirror.ts';

const index = `Package: figlet
Binary: figlet
Version: 2.2.5-3
Directory: pool/main/f/figlet
Checksums-Sha256:
 1111111111111111111111111111111111111111111111111111111111111111 1979 figlet_2.2.5-3.dsc
 bf88c40fd0f077dab2712f54f8d39ac952e4e9f2e1882f1195be9e5e4257417d 233201 figlet_2.2.5.orig.tar.gz

Package: figletx
Version: 1.0-1
Directory: pool/main/f/figletx
`;

describe('findOrigInSources', () => {
  const request = { suite: 'bookworm', source: 'figlet', version: '2.2.5-3', file: 'figlet_2.2.5.orig.tar.gz' };

  it('finds the directory, sha256 and size of the .orig file', () => {
    expect(findOrigInSources(index, request)).toEqual({
      directory: 'pool/main/f/figlet',
      sha256: 'bf88c40fd0f077dab2712f54f8d39ac952e4e9f2e1882f1195be9e5e4257417d',
      size: 233201,
    });
  });

  it('names the versions the index has when the pinned one is gone', () => {
    expect(() => findOrigInSources(index, { ...request, version: '2.2.5-4' })).toThrow(
      /bookworm's Sources index: no figlet 2\.2\.5-4 \(it has 2\.2\.5-3\)/,
    );
    expect(() => findOrigInSources(index, { ...request, source: 'nope' })).toThrow(
      /no nope 2\.2\.5-3 \(it has no such source package\)/,
    );
    expect(() => findOrigInSources(index, { ...request, file: 'figlet_2.2.6.orig.tar.gz' })).toThrow(
      /has no file figlet_2\.2\.6\.orig\.tar\.gz/,
    );
  });
});

describe('fetchDebianOrig from the Debian mirror', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('fetches a verified .orig once, then serves it from the cache; a damaged entry is caught', async () => {
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'aoinb-orig-'));
    dirs.push(cacheDir);
    const { mirror } = await readDebianMirror();
    const request = { suite: 'bookworm', source: 'figlet', version: '2.2.5-3', file: 'figlet_2.2.5.orig.tar.gz' };
    const first = await fetchDebianOrig(request, { mirror, cacheDir });
    // Byte-identical to upstream: the ABBS spec's own CHKSUMS for figlet 2.2.5.
    expect(first.sha256).toBe('bf88c40fd0f077dab2712f54f8d39ac952e4e9f2e1882f1195be9e5e4257417d');
    expect(first.url).toBe(`${mirror}/pool/main/f/figlet/figlet_2.2.5.orig.tar.gz`);
    const again = await fetchDebianOrig(request, { mirror, cacheDir });
    expect(again.path).toBe(first.path);
    expect((await readdir(path.join(cacheDir, 'debian-orig'))).filter((n) => !n.startsWith('.'))).toEqual([
      path.basename(first.path),
    ]);

    await writeFile(first.path, Buffer.alloc(first.size));
    await expect(fetchDebianOrig(request, { mirror, cacheDir })).rejects.toThrow(
      /sha256 .* is not bf88c40f.*removed, run again/,
    );
    expect((await fetchDebianOrig(request, { mirror, cacheDir })).sha256).toBe(first.sha256);
  });

  it('refuses a file name that is not plain', async () => {
    const { mirror } = await readDebianMirror();
    await expect(
      fetchDebianOrig(
        { suite: 'bookworm', source: 'x', version: '1', file: '../etc/passwd' },
        { mirror, cacheDir: '/nonexistent' },
      ),
    ).rejects.toThrow(/not a plain file name/);
  });
});
