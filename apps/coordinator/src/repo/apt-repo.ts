import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, type HeldLock } from '@aoinb/buildroot';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import type { StorageLayout } from '../storage/storage-layout.ts';
import { readDebFacts, type DebFacts } from './deb-facts.ts';
import { RepoIndex, stanzaOf, writeAtomic, type IndexEntry } from './repo-index.ts';
import { publicKeyName, type RepoSigner } from './repo-signer.ts';

/** File names the repository serves: debs, the index files and the public key. */
export const repoFilePattern = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

export function releaseText(
  suite: string,
  archs: string[],
  indexes: Array<{ name: string; sha256: string; size: number }>,
): string {
  const lines = [
    'Origin: aoinb',
    `Label: aoinb ${suite}`,
    `Suite: ${suite}`,
    `Codename: ${suite}`,
    `Date: ${new Date().toUTCString()}`,
    `Architectures: ${archs.length > 0 ? archs.join(' ') : 'all'}`,
    `Description: packages built by the aoinb farm for ${suite}`,
    // Every earlier state of an index file is served by its hash (a prefix of the file): no sync window.
    'Acquire-By-Hash: yes',
    'SHA256:',
    ...indexes.map((i) => ` ${i.sha256} ${i.size} ${i.name}`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface AptRepoOptions {
  /** Signs every Release (InRelease and Release.gpg). */
  signer: RepoSigner;
  /** Newest versions kept per package and arch, by dpkg's version order; 0 keeps every version. */
  keepVersions?: number;
  /** Pruned debs that wait for a compaction (one rewrite of the index) once they are this many. */
  compactAfter?: number;
  /** The Release file's Suite and Codename for a repository name (what an apt pin can match). */
  suiteOf?: (name: string) => string;
  /** Facts of debs read so far, by inode, size and mtime (shared by a group's and its branch's repositories). */
  memo?: Map<string, DebFacts>;
}

export interface PublishOptions {
  /** An admin's decision: a deb of the same name, version and arch but other contents replaces the listed one. */
  replace?: boolean;
}

export interface PublishOutcome {
  added: string[];
  /** Already listed with the same contents (a repeated report): nothing done. */
  unchanged: string[];
  replaced: string[];
}

/**
 * A busy repository's lock is held across the publishes queued behind each
 * other (one flock for a batch), and handed over after this long so a second
 * coordinator's publishes get their turn.
 */
const lockTurnMs = 1000;

interface Planned {
  name: string;
  source: string;
  entry: IndexEntry;
  stanza: string;
}

/**
 * The flat apt repositories (`deb [signed-by=...] <url>/repo/<branch> ./`): one
 * incremental index each (see repo-index.ts and docs/repository.md), a signed
 * Release rewritten per publish. Publishes to one repository run one at a
 * time; a compaction runs after the publish that calls for it, off its path.
 * Across processes (two coordinators sharing the storage folder) every write
 * runs under an flock on `<repository>.lock`, and the index in memory first
 * is reloaded if the other process wrote since (RepoIndex.isCurrent).
 */
export class AptRepo {
  readonly memo: Map<string, DebFacts>;
  private readonly indexes = new Map<string, Promise<RepoIndex>>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly garbage = new Map<string, Set<IndexEntry>>();
  /** Per repository: a Release write queued and not started yet (publishes join it). */
  private readonly releases = new Map<string, Promise<void>>();
  /** Per repository: its flock while this process's queued work runs. */
  private readonly locks = new Map<string, { lock: HeldLock; since: number }>();
  private readonly keep: number;
  private readonly compactAfter: number;
  private readonly suiteOf: (name: string) => string;

  constructor(
    private readonly layout: Pick<StorageLayout, 'repoDir'>,
    private readonly logger: Logger,
    private readonly options: AptRepoOptions,
  ) {
    this.memo = options.memo ?? new Map<string, DebFacts>();
    this.keep = options.keepVersions ?? 0;
    this.compactAfter = options.compactAfter ?? 256;
    this.suiteOf = options.suiteOf ?? ((name) => name);
  }

  /**
   * Adds the debs to the repository and signs its new Release (resolving once
   * a signed Release lists them). A deb whose file
   * name, or whose package, version and arch, is listed with other contents is
   * refused (REPO_CONFLICT, nothing published) unless `replace`; the same
   * contents again change nothing.
   */
  async publish(
    repo: string,
    files: Array<{ source: string; name: string }>,
    options: PublishOptions = {},
  ): Promise<PublishOutcome> {
    const facts = await Promise.all(files.map(async (f) => ({ ...f, facts: await this.facts(f) })));
    const { outcome, signed } = await this.serialized(repo, async () => {
      const index = await this.index(repo);
      const outcome: PublishOutcome = { added: [], unchanged: [], replaced: [] };
      const adds: Planned[] = [];
      const replacing: Array<{ old: IndexEntry; next: Planned }> = [];
      const conflicts: string[] = [];
      for (const f of facts) {
        if (adds.some((a) => a.name === f.name)) continue;
        const entry: IndexEntry = {
          name: f.name,
          package: f.facts.package,
          version: f.facts.version,
          architecture: f.facts.architecture,
          sha256: f.facts.sha256,
          size: f.facts.size,
        };
        const planned = { name: f.name, source: f.source, entry, stanza: stanzaOf(f.name, f.facts) };
        const listed = index.entries.get(f.name) ?? index.byKey.get(RepoIndex.key(entry));
        if (!listed) adds.push(planned);
        else if (listed.sha256 === entry.sha256 && listed.name === entry.name) outcome.unchanged.push(f.name);
        else if (options.replace) replacing.push({ old: listed, next: planned });
        else
          conflicts.push(
            `${entry.package} ${entry.version} (${entry.architecture}) is already published as ${listed.name} with sha256 ${listed.sha256}; this build's ${f.name} has sha256 ${entry.sha256}`,
          );
      }
      if (conflicts.length > 0) {
        throw new AoinbError(
          'REPO_CONFLICT',
          `repository ${repo} refused the publish: ${conflicts.join('; ')}. Give the rebuild a new version (bump REL), or have an admin replace it`,
        );
      }
      const dir = this.layout.repoDir(repo);
      for (const p of [...adds, ...replacing.map((r) => r.next)]) await place(p.source, path.join(dir, p.name));
      if (replacing.length > 0) {
        await index.compact(
          replacing.map((r) => r.old),
          [...adds, ...replacing.map((r) => r.next)],
        );
      } else {
        await index.append(adds);
      }
      outcome.added = adds.map((a) => a.name);
      outcome.replaced = replacing.map((r) => r.next.name);
      const signed = this.releaseAfter(repo, index);
      this.collectGarbage(
        repo,
        index,
        [...adds, ...replacing.map((r) => r.next)].map((p) => p.entry),
      );
      this.logger.debug(
        { repo, added: outcome.added.length, replaced: outcome.replaced.length, packages: index.entries.size },
        'apt repository published',
      );
      return { outcome, signed };
    });
    await signed;
    return outcome;
  }

  /**
   * A signed Release after the work queued so far. Publishes that queue up
   * meanwhile share it: under load, one pair of signatures for many debs.
   */
  private releaseAfter(repo: string, index: RepoIndex): Promise<void> {
    const queued = this.releases.get(repo);
    if (queued) return queued;
    const run = this.serialized(repo, async () => {
      this.releases.delete(repo);
      // The index caught up meanwhile may be a new one (the other coordinator compacted).
      await this.writeRelease(repo, this.indexes.has(repo) ? await this.index(repo) : index);
    });
    this.releases.set(repo, run);
    return run;
  }

  /** The armored public key that checks every Release (served beside each repository as aoinb-archive-key.asc). */
  get publicKey(): string {
    return this.options.signer.publicKey;
  }

  /**
   * Where `by-hash/SHA256/<sha256>` of a repository is (a prefix of an index
   * file), for the index states of recent Releases; undefined otherwise.
   */
  async byHash(repo: string, sha256: string): Promise<{ file: string; size: number } | undefined> {
    // Only a repository that exists: a request must not create one.
    if (!this.indexes.has(repo) && !(await stat(path.join(this.layout.repoDir(repo), 'InRelease')).catch(() => null)))
      return undefined;
    return (await this.index(repo)).byHash(sha256);
  }

  /** Makes sure the repository exists: an empty, signed index before its first publish. */
  async ensure(repo: string): Promise<void> {
    await this.serialized(repo, () => this.index(repo));
  }

  /** Resolves when the repository's queued work (a compaction too) is done. */
  async idle(repo: string): Promise<void> {
    await this.chains.get(repo)?.catch(() => undefined);
  }

  /** Drops what is kept in memory of a repository whose folder was removed (a deleted group's). */
  async forget(repo: string): Promise<void> {
    await this.idle(repo);
    this.indexes.delete(repo);
    this.garbage.delete(repo);
  }

  /** The index of a repository, loaded once (from its Packages file) and then kept. */
  index(repo: string): Promise<RepoIndex> {
    let loaded = this.indexes.get(repo);
    if (!loaded) {
      loaded = (async () => {
        const dir = this.layout.repoDir(repo);
        await mkdir(dir, { recursive: true });
        await removeLeftovers(dir, this.logger);
        const index = await RepoIndex.load(dir);
        this.garbage.set(repo, new Set(index.pruneCandidates(this.keep)));
        await this.writeKey(dir);
        if (!(await stat(path.join(dir, 'InRelease')).catch(() => undefined))) await this.writeRelease(repo, index);
        return index;
      })();
      loaded.catch(() => this.indexes.delete(repo));
      this.indexes.set(repo, loaded);
    }
    return loaded;
  }

  private async writeKey(dir: string): Promise<void> {
    const file = path.join(dir, publicKeyName);
    if ((await readFile(file, 'utf8').catch(() => '')) !== this.options.signer.publicKey)
      await writeAtomic(file, this.options.signer.publicKey);
  }

  private async writeRelease(repo: string, index: RepoIndex): Promise<void> {
    const dir = this.layout.repoDir(repo);
    const release = releaseText(this.suiteOf(repo), index.architectures, index.indexFiles());
    const signed = await this.options.signer.sign(release);
    // InRelease last: apt reads it first, and it names the index files already in place.
    await writeAtomic(path.join(dir, 'Release'), release);
    await writeAtomic(path.join(dir, 'Release.gpg'), signed.releaseGpg);
    await writeAtomic(path.join(dir, 'InRelease'), signed.inRelease);
  }

  /** Marks the old versions retention drops; a compaction removes them once enough have gathered. */
  private collectGarbage(repo: string, index: RepoIndex, touched: IndexEntry[]): void {
    const garbage = this.garbage.get(repo) ?? new Set<IndexEntry>();
    this.garbage.set(repo, garbage);
    for (const e of index.pruneCandidates(this.keep, touched)) garbage.add(e);
    if (garbage.size < this.compactAfter) return;
    void this.serialized(repo, async () => {
      // The index as caught up under the lock (a reloaded one matches none of these: they are found again).
      if (!this.indexes.has(repo) || (await this.index(repo)) !== index) return;
      const drop = [...garbage].filter((e) => index.entries.get(e.name) === e);
      garbage.clear();
      await index.compact(drop);
      await this.writeRelease(repo, index);
      this.logger.info({ repo, pruned: drop.length, packages: index.entries.size }, 'apt repository compacted');
    }).catch((error: unknown) =>
      this.logger.error({ repo, err: (error as Error).message }, 'apt repository compaction failed'),
    );
  }

  private async facts(file: { source: string; name: string }): Promise<DebFacts> {
    if (!repoFilePattern.test(file.name) || !file.name.endsWith('.deb'))
      throw new AoinbError('USAGE', `${JSON.stringify(file.name)} is not a valid .deb file name`);
    const info = await stat(file.source);
    const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
    const facts = this.memo.get(key) ?? (await readDebFacts(file.source, info.size, info.mtimeMs, file.name));
    if (this.memo.size > 100_000) this.memo.clear();
    this.memo.set(key, facts);
    return facts;
  }

  private serialized<T>(repo: string, task: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(repo) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        await this.lock(repo);
        return task();
      });
    this.chains.set(repo, run);
    void run
      .catch(() => undefined)
      .then(async () => {
        if (this.chains.get(repo) !== run) return;
        this.chains.delete(repo);
        await this.unlock(repo);
      });
    return run;
  }

  /** Holds the repository's flock (taking it, or passing it on after its turn) with the index caught up. */
  private async lock(repo: string): Promise<void> {
    const held = this.locks.get(repo);
    if (held && Date.now() - held.since < lockTurnMs) return;
    if (held) await this.unlock(repo);
    const dir = this.layout.repoDir(repo);
    await mkdir(path.dirname(dir), { recursive: true });
    const lock = await acquireLock(`${dir}.lock`, 'exclusive');
    this.locks.set(repo, { lock, since: Date.now() });
    // Another coordinator may have published since our last turn: then our index is reloaded (with its garbage).
    const loaded = await this.indexes.get(repo)?.catch(() => undefined);
    if (loaded && !(await loaded.isCurrent())) {
      this.indexes.delete(repo);
      this.garbage.delete(repo);
    }
  }

  private async unlock(repo: string): Promise<void> {
    const held = this.locks.get(repo);
    this.locks.delete(repo);
    await held?.lock.release();
  }
}

/** A temporary file's writer: `.x.deb.tmp-PID` (place) and `Packages.tmp-PID` (writeAtomic). */
const leftoverPattern = /\.tmp-(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of a coordinator that died between writing and
 * renaming one (a hard link of a deb, a half-written index): no publish of
 * this process has started in the folder yet, and the writer is gone.
 */
async function removeLeftovers(dir: string, logger: Logger): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = Number(leftoverPattern.exec(name)?.[1] ?? 0);
    if (pid === 0 || pid === process.pid || alive(pid)) continue;
    await rm(path.join(dir, name), { force: true });
    logger.info({ dir, file: name }, 'apt repository: removed a leftover of an interrupted publish');
  }
}

/** Hard-links (or copies, across file systems) `source` to `target`; nothing to do when they are one file already. */
async function place(source: string, target: string): Promise<void> {
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  if (to && to.dev === from.dev && to.ino === from.ino) return;
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
  await rm(tmp, { force: true });
  try {
    await link(source, tmp).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EXDEV') throw error;
      await copyFile(source, tmp);
    });
    await rename(tmp, target);
  } finally {
    // rename() of two links of one file succeeds and does nothing, leaving tmp; a failed one leaves it too.
    await rm(tmp, { force: true });
  }
}
