import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autobuild4Release, autobuild4Tarball } from './autobuild4-source.ts';
import { sharedFile } from './shared-inputs.ts';
import { sha256File } from './source-tarball.ts';

let dir: string;
const saved = { shared: process.env.AOINB_SHARED_DIR, ci: process.env.CI };
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-ab4-src-'));
});
afterEach(async () => {
  for (const [key, value] of [
    ['AOINB_SHARED_DIR', saved.shared],
    ['CI', saved.ci],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('autobuild4Tarball', () => {
  it('takes the vendored tarball, which is the pinned release', async () => {
    const found = await autobuild4Tarball({ cacheDir: dir });
    expect(found.tarball).toBe(await sharedFile('vendor', autobuild4Release.fileName));
    expect(found.sha256).toBe(await sha256File(found.tarball));
    expect(found.sha256).toBe(autobuild4Release.sha256);
  });

  it('never fetches for tests: without ../shared it fails naming the missing file', async () => {
    process.env.AOINB_SHARED_DIR = path.join(dir, 'no-shared');
    await expect(autobuild4Tarball({ cacheDir: dir })).rejects.toThrow(
      /no-shared\/vendor\/autobuild4-4\.17\.10\.tar\.gz is missing/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('never fetches under CI, even for the quick start', async () => {
    process.env.AOINB_SHARED_DIR = path.join(dir, 'no-shared');
    process.env.CI = '1';
    await expect(autobuild4Tarball({ cacheDir: dir, allowFetch: true })).rejects.toThrow(/is missing/);
    expect(await readdir(dir)).toEqual([]);
  });
});
