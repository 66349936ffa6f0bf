import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFresh, stampFile, writeStamp } from './build-stamp.ts';

describe('build stamps (what --if-stale reads)', () => {
  let root: string;
  let outdir: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'aoinb-stamp-'));
    outdir = path.join(root, 'dist');
    await mkdir(path.join(root, 'src'), { recursive: true });
    await mkdir(outdir);
    await writeFile(path.join(root, 'src/a.ts'), 'export const a = 1;\n');
    await writeFile(path.join(root, 'src/b.ts'), 'export const b = 2;\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('is fresh while every input hashes the same, even when only touched', async () => {
    await writeStamp(root, outdir, ['src/a.ts', 'src/b.ts', 'src/a.ts']);
    expect(await isFresh(root, outdir)).toBe(true);
    await writeFile(path.join(root, 'src/a.ts'), 'export const a = 1;\n');
    expect(await isFresh(root, outdir)).toBe(true);
  });

  it('is stale once an input changed or went away', async () => {
    await writeStamp(root, outdir, ['src/a.ts', 'src/b.ts']);
    await writeFile(path.join(root, 'src/b.ts'), 'export const b = 3;\n');
    expect(await isFresh(root, outdir)).toBe(false);
    await writeStamp(root, outdir, ['src/a.ts', 'src/b.ts']);
    await rm(path.join(root, 'src/a.ts'));
    expect(await isFresh(root, outdir)).toBe(false);
  });

  it('is stale without a stamp, with a garbled one or one that names nothing', async () => {
    expect(await isFresh(root, outdir)).toBe(false);
    await writeFile(path.join(outdir, stampFile), '{"inputs": ');
    expect(await isFresh(root, outdir)).toBe(false);
    await writeFile(path.join(outdir, stampFile), '{"inputs": {}}');
    expect(await isFresh(root, outdir)).toBe(false);
  });

  it('refuses to stamp an input that is not there', async () => {
    await expect(writeStamp(root, outdir, ['src/gone.ts'])).rejects.toThrow('build input src/gone.ts vanished');
  });
});
