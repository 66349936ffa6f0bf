import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';

export const SPEC = 'VER=1.0\nDUMMYSRC=1\n';
export const DEFINES = 'PKGNAME=demo\nPKGSEC=utils\nPKGDES="Demo"\n';

/** The scratch folders of the extraction tests, fresh per test file (see useExtractFixture). */
export interface ExtractFixture {
  /** The test file's scratch folder: bundle folders and the archives made from them. */
  readonly work: string;
  /** This test's destination folder; nothing but what an extraction accepts may ever appear in it. */
  readonly out: string;
  /** An absolute path outside `out` that an archive names (the victim of an absolute-path entry). */
  readonly absoluteVictim: string;
  /** Runs GNU tar in `work`. */
  tar(...args: string[]): void;
  /** A fresh destination inside `out`. */
  dest(name: string): string;
  /** A minimal bundle (spec, defines, build) at `work/rel`; `good/pkg` is made for every file. */
  makeBundleDir(rel: string): Promise<string>;
  /** `out` is empty, and nothing was written outside it: the escapes' targets, /etc/passwd. */
  expectNothingWritten(): Promise<void>;
}

/** Registers the hooks that make the folders: call once at the top of a test file. */
export function useExtractFixture(): ExtractFixture {
  let work = '';
  let out = '';
  let passwdBefore: { mtimeMs: number; size: number };

  async function makeBundleDir(rel: string): Promise<string> {
    const dir = path.join(work, rel);
    await mkdir(path.join(dir, 'autobuild'), { recursive: true });
    await writeFile(path.join(dir, 'spec'), SPEC);
    await writeFile(path.join(dir, 'autobuild/defines'), DEFINES);
    await writeFile(path.join(dir, 'autobuild/build'), 'abinfo hi\n');
    return dir;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'aoinb-archive-'));
    await makeBundleDir('good/pkg');
    const st = await stat('/etc/passwd');
    passwdBefore = { mtimeMs: st.mtimeMs, size: st.size };
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    out = path.join(work, `out-${Math.random().toString(36).slice(2)}`);
    await mkdir(out);
  });

  return {
    get work() {
      return work;
    },
    get out() {
      return out;
    },
    get absoluteVictim() {
      return path.join(work, 'abs-escaped');
    },
    tar: (...args) => {
      execFileSync('tar', args, { cwd: work, stdio: 'pipe' });
    },
    dest: (name) => path.join(out, name),
    makeBundleDir,
    async expectNothingWritten() {
      expect(await readdir(out)).toEqual([]);
      expect(existsSync(path.join(work, 'escaped'))).toBe(false);
      expect(existsSync('/escaped')).toBe(false);
      expect(existsSync(path.join(work, 'abs-escaped'))).toBe(false);
      const st = await stat('/etc/passwd');
      expect({ mtimeMs: st.mtimeMs, size: st.size }).toEqual(passwdBefore);
    },
  };
}
