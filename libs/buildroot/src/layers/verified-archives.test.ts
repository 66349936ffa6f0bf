import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  feedAptCache,
  fillFromAptCache,
  isUnderRepository,
  parsePlannedArchives,
  type PlannedArchive,
} from './verified-archives.ts';

let dir: string;
let cache: string;
let root: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-verified-'));
  cache = path.join(dir, 'cache');
  root = path.join(dir, 'root');
  await mkdir(cache);
  await mkdir(root);
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const group = 'http://127.0.0.1:8080/group/7/repo';
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function planned(file: string, bytes: Buffer, uri: string): PlannedArchive {
  return { uri, file, size: bytes.length, sha256: sha(bytes) };
}

describe('archives shared by SHA256 with builds that have extra repositories', () => {
  it('reads apt --print-uris lines with SHA256 only, and only plain .deb names', () => {
    const hex = 'a'.repeat(64);
    const text = [
      `'http://deb.debian.org/debian/pool/main/b/bc/bc_1.07.1-4_amd64.deb' bc_1.07.1-4_amd64.deb 103196 SHA256:${hex}`,
      `'http://x/y.deb' md5_1_all.deb 10 MD5Sum:${'b'.repeat(32)}`,
      `'http://x/../../etc/passwd' ../passwd.deb 10 SHA256:${hex}`,
      `'http://x/notes' notes.txt 10 SHA256:${hex}`,
      'E: something apt said',
      '',
    ].join('\n');
    expect(parsePlannedArchives(text)).toEqual([
      {
        uri: 'http://deb.debian.org/debian/pool/main/b/bc/bc_1.07.1-4_amd64.deb',
        file: 'bc_1.07.1-4_amd64.deb',
        size: 103196,
        sha256: hex,
      },
    ]);
  });

  it('places a URI under a repository after normalising it; `..` cannot step out, nor can a look-alike host', () => {
    expect(isUnderRepository(`${group}/./liba_1.0_amd64.deb`, [group])).toBe(true);
    expect(isUnderRepository('http://127.0.0.1:8080/group/7/repo/../../8/repo/x.deb', [group])).toBe(false);
    expect(isUnderRepository('http://127.0.0.1:8080/group/7/repository/x.deb', [group])).toBe(false);
    expect(isUnderRepository('http://127.0.0.1:8080/group/7/repo/../repo/x.deb', [group])).toBe(true);
    expect(isUnderRepository('not a url', [group])).toBe(true);
  });

  it('a cached file with the same name and size but other bytes is never copied in (apt would trust it)', async () => {
    const real = Buffer.from('the group repository liba, rebuilt');
    const shadow = Buffer.from('the branch liba, same version!!!!!');
    expect(shadow.length).toBe(real.length);
    await writeFile(path.join(cache, 'liba_1.0_amd64.deb'), shadow);
    const plan = [planned('liba_1.0_amd64.deb', real, `${group}/./liba_1.0_amd64.deb`)];
    expect(await fillFromAptCache(cache, root, plan)).toEqual([]);
    expect(await readdir(root)).toEqual([]);

    // apt downloads the real one into the root; it goes into the cache by digest only.
    await writeFile(path.join(root, 'liba_1.0_amd64.deb'), real);
    expect(await feedAptCache(cache, root, plan, [group])).toEqual([`by-sha256/${sha(real)}.deb`]);
    expect(await readFile(path.join(cache, 'liba_1.0_amd64.deb'))).toEqual(shadow);

    // The next build of that group finds it by digest; the shadow stays where it was.
    await rm(root, { recursive: true });
    await mkdir(root);
    expect(await fillFromAptCache(cache, root, plan)).toEqual([`by-sha256/${sha(real)}.deb`]);
    expect(await readFile(path.join(root, 'liba_1.0_amd64.deb'))).toEqual(real);
  });

  it('what came from outside the repositories is shared under apt name, once, and only with its digest', async () => {
    const bc = Buffer.from('bc from the mirror');
    const plan = [
      planned('bc_1_amd64.deb', bc, 'http://deb.debian.org/debian/pool/main/b/bc/bc_1_amd64.deb'),
      planned('gone_1_amd64.deb', Buffer.from('never downloaded'), 'http://deb.debian.org/debian/gone_1_amd64.deb'),
      planned('bad_1_amd64.deb', Buffer.from('the planned bytes'), 'http://deb.debian.org/debian/bad_1_amd64.deb'),
    ];
    await writeFile(path.join(root, 'bc_1_amd64.deb'), bc);
    await writeFile(path.join(root, 'bad_1_amd64.deb'), Buffer.from('other bytes here!'));
    expect(await feedAptCache(cache, root, plan, [group])).toEqual(['bc_1_amd64.deb']);
    expect(await feedAptCache(cache, root, plan, [group])).toEqual([]);
    expect((await readdir(cache)).sort()).toEqual(['bc_1_amd64.deb', 'by-sha256']);
    expect(await readdir(path.join(cache, 'by-sha256'))).toEqual([]);

    const other = path.join(dir, 'other-root');
    await mkdir(other);
    expect(await fillFromAptCache(cache, other, plan)).toEqual(['bc_1_amd64.deb']);
    expect(await readdir(other)).toEqual(['bc_1_amd64.deb']);
  });
});
