import { createHash } from 'node:crypto';
import { link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '@aoinb/logging';
import type { StorageLayout } from '../storage/storage-layout.ts';
import { cachedDebFacts, type DebFacts } from './deb-facts.ts';

const gzipAsync = promisify(gzip);

/** File names the repository serves: debs and the index files. */
export const repoFilePattern = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function packagesText(debs: Array<{ name: string; facts: DebFacts }>): string {
  const sorted = [...debs].sort((a, b) => a.facts.package.localeCompare(b.facts.package) || a.name.localeCompare(b.name));
  return sorted.map(({ name, facts }) => `${facts.control}\nFilename: ${name}\nSize: ${facts.size}\nSHA256: ${facts.sha256}\n`).join('\n');
}

export function releaseText(branch: string, debs: DebFacts[], indexes: Array<{ name: string; data: string | Buffer }>): string {
  const archs = [...new Set(debs.map((d) => d.architecture))].sort();
  const lines = [
    'Origin: aoinb',
    `Label: aoinb ${branch}`,
    `Suite: ${branch}`,
    `Codename: ${branch}`,
    `Date: ${new Date().toUTCString()}`,
    `Architectures: ${archs.length > 0 ? archs.join(' ') : 'all'}`,
    `Description: packages built by the aoinb farm for ${branch}`,
    'SHA256:',
    ...indexes.map((i) => ` ${sha256(i.data)} ${Buffer.byteLength(i.data)} ${i.name}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The per-branch apt repositories under `output/<branch>/`: a flat repository
 * (`deb [trusted=yes] <url>/repo/<branch> ./`) with Packages, Packages.gz and
 * Release, rewritten after every publish. Refreshes of one branch never overlap;
 * requests arriving during one are folded into a single follow-up.
 */
export class AptRepo {
  private readonly refreshing = new Map<string, { run: Promise<void>; again: boolean }>();
  /**
   * Facts of the debs indexed so far, by inode, size and mtime: a refresh reads
   * no cache file for a deb it has seen, and repositories sharing the memo
   * (a group's and its branch's hold hard links of the same debs) run
   * `dpkg-deb` once per deb.
   */
  readonly memo: Map<string, DebFacts>;

  /**
   * `layout` maps a repository name to its folders (a branch by default; the
   * group repositories use their own); `suiteOf` gives the Release file's
   * Suite and Codename for a name (what an apt pin can match).
   */
  constructor(
    private readonly layout: Pick<StorageLayout, 'repoDir' | 'indexCacheDir'>,
    private readonly logger: Logger,
    private readonly suiteOf: (name: string) => string = (name) => name,
    memo?: Map<string, DebFacts>,
  ) {
    this.memo = memo ?? new Map();
  }

  /** Hard-links (or copies) the files into the branch repo, replacing same-named ones, then refreshes its index. */
  async publish(branch: string, files: Array<{ source: string; name: string }>): Promise<void> {
    const dir = this.layout.repoDir(branch);
    await mkdir(dir, { recursive: true });
    for (const f of files) {
      const tmp = path.join(dir, `.${f.name}.tmp-${process.pid}`);
      await rm(tmp, { force: true });
      await link(f.source, tmp);
      await rename(tmp, path.join(dir, f.name));
    }
    await this.refresh(branch);
  }

  refresh(branch: string): Promise<void> {
    const current = this.refreshing.get(branch);
    if (current) {
      current.again = true;
      return current.run;
    }
    const state = { again: false, run: Promise.resolve() };
    state.run = (async () => {
      try {
        do {
          state.again = false;
          await this.refreshNow(branch);
        } while (state.again);
      } finally {
        this.refreshing.delete(branch);
      }
    })();
    this.refreshing.set(branch, state);
    return state.run;
  }

  private async refreshNow(branch: string): Promise<void> {
    const dir = this.layout.repoDir(branch);
    const cacheDir = this.layout.indexCacheDir(branch);
    await mkdir(dir, { recursive: true });
    await mkdir(cacheDir, { recursive: true });
    const names = (await readdir(dir)).filter((n) => n.endsWith('.deb') && repoFilePattern.test(n));
    const debs: Array<{ name: string; facts: DebFacts }> = [];
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        const info = await stat(file);
        const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
        const facts = this.memo.get(key) ?? (await cachedDebFacts(file, path.join(cacheDir, `${name}.json`), info.size, info.mtimeMs));
        if (this.memo.size > 100_000) this.memo.clear();
        this.memo.set(key, facts);
        debs.push({ name, facts });
      } catch (error) {
        this.logger.warn({ branch, file, err: (error as Error).message }, 'deb left out of the index');
      }
    }
    for (const cached of await readdir(cacheDir)) {
      if (!names.includes(cached.replace(/\.json$/, ''))) await rm(path.join(cacheDir, cached), { force: true });
    }
    const packages = packagesText(debs);
    const packagesGz = await gzipAsync(Buffer.from(packages));
    await writeAtomic(path.join(dir, 'Packages'), packages);
    await writeAtomic(path.join(dir, 'Packages.gz'), packagesGz);
    const indexes = [
      { name: 'Packages', data: packages },
      { name: 'Packages.gz', data: packagesGz },
    ];
    await writeAtomic(path.join(dir, 'Release'), releaseText(this.suiteOf(branch), debs.map((d) => d.facts), indexes));
    this.logger.debug({ branch, packages: debs.length }, 'apt index refreshed');
  }
}
