import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { ensureTestBaseos, pruneCache } from './test-baseos.ts';

const tmp = useTempDir('aoinb-baseos-');

describe('ensureTestBaseos', () => {
  it('returns the cached, labelled test base OS without rebuilding it, and marks it used', async () => {
    const first = await ensureTestBaseos();
    const built = await stat(first.tarball);
    const asked = Date.now();
    const baseos = await ensureTestBaseos();
    // The same file, untouched: the second call used the cache (the global setup made it).
    const again = await stat(baseos.tarball);
    expect([again.ino, again.mtimeMs]).toEqual([built.ino, built.mtimeMs]);
    expect(baseos.suite).toBe('trixie');
    expect(baseos.sourcesListLine).toBe(`deb ${baseos.mirror} trixie main`);
    expect(baseos.sourcesList.startsWith(`${baseos.sourcesListLine}\n`)).toBe(true);
    expect(path.basename(baseos.tarball)).toBe(`test-baseos-${baseos.arch}.tar.zst`);
    expect(path.basename(path.dirname(baseos.tarball))).toBe(`test-baseos-${baseos.arch}-${baseos.key}`);
    expect((await stat(baseos.tarball)).size).toBeGreaterThan(10_000_000);
    const lastUsed = (await stat(path.join(path.dirname(baseos.tarball), 'last-used'))).mtimeMs;
    expect(lastUsed).toBeGreaterThanOrEqual(asked - 1);
    expect(await readFile(path.join(baseos.rootfsDir, 'etc/aoinb-test-baseos'), 'utf8')).toMatch(
      /real autobuild4 4\.17\.10[\s\S]*NOT AOSC OS/,
    );
    expect(await readFile(path.join(baseos.rootfsDir, 'etc/apt/sources.list'), 'utf8')).toBe(baseos.sourcesList);
    const recipe = JSON.parse(await readFile(path.join(path.dirname(baseos.tarball), 'recipe.json'), 'utf8'));
    expect(recipe.autobuild).toMatchObject({ kind: 'autobuild4', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    for (const tool of [
      'usr/bin/gcc',
      'usr/bin/make',
      'usr/bin/dpkg-deb',
      'usr/bin/patch',
      'usr/bin/xz',
      'usr/bin/zstd',
      'usr/bin/bzip2',
      'usr/bin/autobuild',
    ]) {
      await expect(stat(path.join(baseos.rootfsDir, tool)), tool).resolves.toBeTruthy();
    }
  });

  it('packs the same tree into the tarball', async () => {
    const baseos = await ensureTestBaseos();
    const { stdout } = await execa('bash', [
      '-c',
      'zstd -dc -- "$1" | tar -t | grep -xE "\\./(usr/bin/autobuild|etc/aoinb-test-baseos)"',
      'list',
      baseos.tarball,
    ]);
    expect(stdout.split('\n').sort()).toEqual(['./etc/aoinb-test-baseos', './usr/bin/autobuild']);
  });

  it('leaves nothing behind when debootstrap fails, and prunes only entries unused for a day', async () => {
    const aptDir = path.join(tmp.dir, 'apt');
    await mkdir(path.join(aptDir, 'sources.list.d'), { recursive: true });
    await writeFile(path.join(aptDir, 'sources.list'), 'deb http://127.0.0.1:9/debian bookworm main\n');
    const cacheDir = path.join(tmp.dir, 'cache');
    await expect(ensureTestBaseos({ cacheDir, aptDir })).rejects.toThrow(/debootstrap .* failed/);
    expect(await readdir(cacheDir)).toEqual(['test-baseos.lock']);
  });
});

describe('cache pruning', () => {
  it('keeps entries another run may be using and removes those unused for more than a day', async () => {
    const cacheDir = path.join(tmp.dir, 'prune');
    const entry = async (name: string, ageHours: number) => {
      await mkdir(path.join(cacheDir, name), { recursive: true });
      await writeFile(path.join(cacheDir, name, 'last-used'), '');
      const when = new Date(Date.now() - ageHours * 3600_000);
      await utimes(path.join(cacheDir, name, 'last-used'), when, when);
    };
    await entry('test-baseos-amd64-0000000000000001', 1);
    await entry('test-baseos-amd64-0000000000000002', 30);
    await entry('test-baseos-amd64-0000000000000003', 40);
    await entry('standin-baseos-amd64-0000000000000004', 2);
    await entry('test-baseos-arm64-0000000000000005', 50);
    await entry('abbs-aosc-os-abbs-x', 90);
    await pruneCache(cacheDir, 'amd64', 'test-baseos-amd64-0000000000000003');
    expect((await readdir(cacheDir)).sort()).toEqual([
      'abbs-aosc-os-abbs-x',
      'standin-baseos-amd64-0000000000000004',
      'test-baseos-amd64-0000000000000001',
      'test-baseos-amd64-0000000000000003',
      'test-baseos-arm64-0000000000000005',
    ]);
  });
});
