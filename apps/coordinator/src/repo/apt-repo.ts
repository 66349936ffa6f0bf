import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import type { StorageLayout } from '../storage/storage-layout.ts';
import { readDebFacts, type DebFacts } from './deb-facts.ts';
import { planPublish } from './publish-plan.ts';
import { writePublicKey, writeRelease } from './release-file.ts';
import { repoFilePattern, place, removeLeftovers, tempDirName } from './repo-files.ts';
import { RepoIndex, type IndexEntry } from './repo-index.ts';
import { RepoQueue } from './repo-queue.ts';
import type { RepoSigner } from './repo-signer.ts';

export { releaseText } from './release-file.ts';
export { repoFilePattern };

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
  private readonly garbage = new Map<string, Set<IndexEntry>>();
  /** Per repository: a Release write queued and not started yet (publishes join it). */
  private readonly releases = new Map<string, Promise<void>>();
  private readonly queue: RepoQueue;
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
    this.queue = new RepoQueue(
      (repo) => layout.repoDir(repo),
      (repo) => this.catchUp(repo),
    );
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
    const { outcome, signed } = await this.queue.run(repo, async () => {
      const index = await this.index(repo);
      const { adds, replacing, unchanged } = planPublish(repo, index, facts, options.replace ?? false);
      const placed = [...adds, ...replacing.map((r) => r.next)];
      const dir = this.layout.repoDir(repo);
      for (const p of placed) await place(p.source, path.join(dir, p.name));
      if (replacing.length > 0)
        await index.compact(
          replacing.map((r) => r.old),
          placed,
        );
      else await index.append(adds);
      const outcome: PublishOutcome = {
        added: adds.map((a) => a.name),
        unchanged,
        replaced: replacing.map((r) => r.next.name),
      };
      const signed = this.releaseAfter(repo, index);
      this.collectGarbage(
        repo,
        index,
        placed.map((p) => p.entry),
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
    const run = this.queue.run(repo, async () => {
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
    await this.queue.run(repo, () => this.index(repo));
  }

  /** Resolves when the repository's queued work (a compaction too) is done. */
  async idle(repo: string): Promise<void> {
    await this.queue.idle(repo);
  }

  /** Drops what is kept in memory of a repository whose folder was removed (a deleted group's). */
  async forget(repo: string): Promise<void> {
    await this.idle(repo);
    this.indexes.delete(repo);
    this.garbage.delete(repo);
  }

  /** The index of a repository, loaded once (from its saved state, see repo-index.ts) and then kept. */
  index(repo: string): Promise<RepoIndex> {
    let loaded = this.indexes.get(repo);
    if (!loaded) {
      loaded = (async () => {
        const dir = this.layout.repoDir(repo);
        await mkdir(dir, { recursive: true });
        await removeLeftovers(dir, this.logger);
        await removeLeftovers(path.join(dir, tempDirName), this.logger);
        const index = await RepoIndex.load(dir);
        this.garbage.set(repo, new Set(index.pruneCandidates(this.keep)));
        await writePublicKey(dir, this.options.signer);
        if (!(await stat(path.join(dir, 'InRelease')).catch(() => undefined))) await this.writeRelease(repo, index);
        return index;
      })();
      loaded.catch(() => this.indexes.delete(repo));
      this.indexes.set(repo, loaded);
    }
    return loaded;
  }

  /** Another coordinator may have published since our last turn: then our index is reloaded (with its garbage). */
  private async catchUp(repo: string): Promise<void> {
    // Under the lock: what a coordinator that died mid-publish left is swept by the next one to take it.
    await removeLeftovers(path.join(this.layout.repoDir(repo), tempDirName), this.logger);
    const loaded = await this.indexes.get(repo)?.catch(() => undefined);
    if (loaded && !(await loaded.isCurrent())) {
      this.indexes.delete(repo);
      this.garbage.delete(repo);
    }
  }

  private writeRelease(repo: string, index: RepoIndex): Promise<void> {
    return writeRelease(this.layout.repoDir(repo), this.suiteOf(repo), index, this.options.signer);
  }

  /** Marks the old versions retention drops; a compaction removes them once enough have gathered. */
  private collectGarbage(repo: string, index: RepoIndex, touched: IndexEntry[]): void {
    const garbage = this.garbage.get(repo) ?? new Set<IndexEntry>();
    this.garbage.set(repo, garbage);
    for (const e of index.pruneCandidates(this.keep, touched)) garbage.add(e);
    if (garbage.size < this.compactAfter) return;
    void this.queue
      .run(repo, async () => {
        // The index as caught up under the lock (a reloaded one matches none of these: they are found again).
        if (!this.indexes.has(repo) || (await this.index(repo)) !== index) return;
        const drop = [...garbage].filter((e) => index.entries.get(e.name) === e);
        garbage.clear();
        await index.compact(drop);
        await this.writeRelease(repo, index);
        this.logger.info({ repo, pruned: drop.length, packages: index.entries.size }, 'apt repository compacted');
      })
      .catch((error: unknown) =>
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
}
