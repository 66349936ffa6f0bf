import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStandinBaseos, standinAutobuildPath } from './standin-baseos.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'aoinb-baseos-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ensureStandinBaseos', () => {
  it('returns the cached, labelled stand-in quickly', async () => {
    const started = Date.now();
    const baseos = await ensureStandinBaseos();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(baseos.sourcesListLine).toBe(`deb ${baseos.mirror} ${baseos.suite} main`);
    expect(baseos.sourcesList.startsWith(`${baseos.sourcesListLine}\n`)).toBe(true);
    expect(path.basename(baseos.tarball)).toBe(`standin-baseos-${baseos.arch}.tar.zst`);
    expect((await stat(baseos.tarball)).size).toBeGreaterThan(10_000_000);
    expect(await readFile(path.join(baseos.rootfsDir, 'etc/aoinb-standin-baseos'), 'utf8')).toMatch(/NOT AOSC's BuildKit/);
    expect(await readFile(path.join(baseos.rootfsDir, 'usr/bin/autobuild'), 'utf8')).toBe(await readFile(standinAutobuildPath(), 'utf8'));
    expect(await readFile(path.join(baseos.rootfsDir, 'etc/apt/sources.list'), 'utf8')).toBe(baseos.sourcesList);
    for (const tool of ['usr/bin/gcc', 'usr/bin/make', 'usr/bin/dpkg-deb', 'usr/bin/patch', 'usr/bin/xz', 'usr/bin/zstd', 'bin/bzip2']) {
      await expect(stat(path.join(baseos.rootfsDir, tool)), tool).resolves.toBeTruthy();
    }
  });

  it('packs the same tree into the tarball', async () => {
    const baseos = await ensureStandinBaseos();
    const { stdout } = await execa('bash', ['-c', 'zstd -dc -- "$1" | tar -t | grep -xE "\\./(usr/bin/autobuild|etc/aoinb-standin-baseos)"', 'list', baseos.tarball]);
    expect(stdout.split('\n').sort()).toEqual(['./etc/aoinb-standin-baseos', './usr/bin/autobuild']);
  });

  it('leaves nothing behind when debootstrap fails', async () => {
    const aptDir = path.join(work, 'apt');
    await mkdir(path.join(aptDir, 'sources.list.d'), { recursive: true });
    await writeFile(path.join(aptDir, 'sources.list'), 'deb http://127.0.0.1:9/debian bookworm main\n');
    const cacheDir = path.join(work, 'cache');
    await expect(ensureStandinBaseos({ cacheDir, aptDir })).rejects.toThrow(/debootstrap .* failed/);
    expect(await readdir(cacheDir)).toEqual(['standin-baseos.lock']);
  });
});
