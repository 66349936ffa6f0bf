import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveFileName, pruneAptCache } from './apt-cache.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-aptcache-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function deb(name: string, bytes: number, ageSeconds: number): Promise<void> {
  await writeFile(path.join(dir, name), Buffer.alloc(bytes));
  const when = Date.now() / 1000 - ageSeconds;
  await utimes(path.join(dir, name), when, when);
}

describe('the shared apt archive cache', () => {
  it('names files as apt does, an epoch colon as %3a', () => {
    expect(archiveFileName({ name: 'bc', version: '1.07.1-4', arch: 'amd64' })).toBe('bc_1.07.1-4_amd64.deb');
    expect(archiveFileName({ name: 'libx', version: '2:1.0-1', arch: 'all' })).toBe('libx_2%3a1.0-1_all.deb');
  });

  it('is pruned least recently used first down to its budget; what a build just used counts as new', async () => {
    await deb('a_1_amd64.deb', 100, 300);
    await deb('b_1_amd64.deb', 100, 200);
    await deb('c_1_amd64.deb', 100, 100);
    await writeFile(path.join(dir, 'lock'), '');
    expect(await pruneAptCache(dir, 200, ['a_1_amd64.deb'])).toEqual(['b_1_amd64.deb']);
    expect((await readdir(dir)).sort()).toEqual(['a_1_amd64.deb', 'c_1_amd64.deb', 'lock']);
    expect(await pruneAptCache(dir, 0)).toEqual(['c_1_amd64.deb', 'a_1_amd64.deb']);
  });

  it('prunes the archives kept by digest (by-sha256/) with the others', async () => {
    await mkdir(path.join(dir, 'by-sha256'));
    await deb('by-sha256/aaaa.deb', 100, 300);
    await deb('b_1_amd64.deb', 100, 100);
    expect(await pruneAptCache(dir, 100)).toEqual(['by-sha256/aaaa.deb']);
    expect(await readdir(path.join(dir, 'by-sha256'))).toEqual([]);
  });

  it('removes what a killed copy into the cache left (.aoinb-*.partial), and nothing else', async () => {
    await mkdir(path.join(dir, 'by-sha256'));
    await deb('.aoinb-1.partial', 10, 10);
    await deb('by-sha256/.aoinb-2.partial', 10, 10);
    await deb('by-sha256/bbbb.deb', 10, 10);
    await deb('a_1_amd64.deb', 10, 10);
    expect(await pruneAptCache(dir, 1000)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['a_1_amd64.deb', 'by-sha256']);
    expect(await readdir(path.join(dir, 'by-sha256'))).toEqual(['bbbb.deb']);
  });
});
