import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { compareDebianVersions } from './debian-version.ts';
import type { DebFacts } from './deb-facts.ts';

/** One deb the index lists (its stanza lives in the Packages file only). */
export interface IndexEntry {
  name: string;
  package: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
}

/** A Packages stanza: the control fields, then where and what the deb is (dpkg-scanpackages' order). */
export function stanzaOf(name: string, facts: DebFacts): string {
  return `${facts.control}\nFilename: ${name}\nSize: ${facts.size}\nSHA256: ${facts.sha256}\n`;
}

const fieldPatterns = new Map(
  ['Filename', 'Package', 'Version', 'Architecture', 'SHA256', 'Size'].map((f) => [
    f,
    new RegExp(`^${f}:[ \\t]*(.*)$`, 'm'),
  ]),
);

function field(stanza: string, name: string): string {
  return fieldPatterns.get(name)?.exec(stanza)?.[1]?.trim() ?? '';
}

function entryOf(stanza: string): IndexEntry | undefined {
  const e = {
    name: field(stanza, 'Filename'),
    package: field(stanza, 'Package'),
    version: field(stanza, 'Version'),
    architecture: field(stanza, 'Architecture'),
    sha256: field(stanza, 'SHA256'),
    size: Number(field(stanza, 'Size')),
  };
  return e.name && e.package && e.version && e.architecture && e.sha256 ? e : undefined;
}

/** sha256 and size of a file, and with `gunzip` the size of what it decompresses to; a missing file rejects. */
async function hashFile(file: string, gunzip = false): Promise<{ hash: Hash; size: number; plainSize: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let plainSize = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const count = new Writable({
    write(chunk: Buffer, _encoding, done) {
      plainSize += chunk.length;
      done();
    },
  });
  await (gunzip
    ? pipeline(createReadStream(file), meter, createGunzip(), count)
    : pipeline(createReadStream(file), meter, count));
  return { hash, size, plainSize };
}

/** Size and running sha256 of an append-only index file: appending costs what is appended. */
class AppendFile {
  constructor(
    readonly file: string,
    private hash: Hash,
    public size: number,
    /** The inode written: a compaction (by any coordinator) renames a new one into place. */
    readonly ino: bigint,
  ) {}

  static async open(file: string, hash: Hash, size: number): Promise<AppendFile> {
    return new AppendFile(file, hash, size, (await stat(file, { bigint: true })).ino);
  }

  async append(data: Buffer): Promise<void> {
    await appendFile(this.file, data);
    this.hash.update(data);
    this.size += data.length;
  }

  /** What another writer appended since (same inode, grown), hashed in; undefined when the file was replaced. */
  async appended(): Promise<Buffer | undefined> {
    const now = await stat(this.file, { bigint: true }).catch(() => undefined);
    if (!now || now.ino !== this.ino || now.size < BigInt(this.size)) return undefined;
    const extra = Buffer.alloc(Number(now.size) - this.size);
    if (extra.length === 0) return extra;
    const handle = await open(this.file, 'r');
    try {
      const { bytesRead } = await handle.read(extra, 0, extra.length, this.size);
      if (bytesRead !== extra.length) return undefined;
    } finally {
      await handle.close();
    }
    this.hash.update(extra);
    this.size += extra.length;
    return extra;
  }

  /** The digest so far; `copy()` keeps the running hash going. */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }
}

/**
 * A flat repository's index, kept incrementally. `Packages` only grows between
 * compactions: a publish appends its stanzas, and `Packages.gz` gets them as
 * one more gzip member (gzip readers, apt's included, read concatenated
 * members as one stream), with sha256s kept running. Removals (pruned old
 * versions, an admin's replacement) are done by a compaction, which rewrites
 * both files once from the live entries and only then deletes the debs they
 * no longer list, so a listed deb is always there.
 */
export class RepoIndex {
  /** Every listed deb by file name (live or waiting for compaction). */
  readonly entries = new Map<string, IndexEntry>();
  /** Same, by `package version arch`. */
  readonly byKey = new Map<string, IndexEntry>();
  /** Entries of each `package arch`, for retention. */
  private readonly families = new Map<string, Set<IndexEntry>>();
  private readonly archCounts = new Map<string, number>();
  private packages!: AppendFile;
  private packagesGz!: AppendFile;

  private constructor(readonly dir: string) {}

  static key(e: { package: string; version: string; architecture: string }): string {
    return `${e.package} ${e.version} ${e.architecture}`;
  }

  /** Reads the index from `Packages` (no deb is opened); rewrites it if `Packages.gz` is not in step (a crash mid-append). */
  static async load(dir: string): Promise<RepoIndex> {
    const index = new RepoIndex(dir);
    const text = await readFile(path.join(dir, 'Packages'), 'utf8').catch(() => '');
    for (const stanza of text.split(/\n\n+/)) {
      const entry = stanza.trim() ? entryOf(stanza) : undefined;
      if (entry) index.remember(entry);
    }
    const plain = await hashFile(path.join(dir, 'Packages')).catch(() => undefined);
    const gz = await hashFile(path.join(dir, 'Packages.gz'), true).catch(() => undefined);
    if (plain && gz && gz.plainSize === plain.size && plain.size === Buffer.byteLength(text)) {
      index.packages = await AppendFile.open(path.join(dir, 'Packages'), plain.hash, plain.size);
      index.packagesGz = await AppendFile.open(path.join(dir, 'Packages.gz'), gz.hash, gz.size);
    } else {
      await index.rewrite(
        text
          .split(/\n\n+/)
          .filter((s) => s.trim())
          .map((s) => `${s.replace(/\n+$/, '')}\n`),
      );
    }
    return index;
  }

  private remember(entry: IndexEntry): void {
    this.entries.set(entry.name, entry);
    this.byKey.set(RepoIndex.key(entry), entry);
    const family = `${entry.package} ${entry.architecture}`;
    this.families.set(family, (this.families.get(family) ?? new Set()).add(entry));
    this.archCounts.set(entry.architecture, (this.archCounts.get(entry.architecture) ?? 0) + 1);
  }

  private forget(entry: IndexEntry): void {
    if (this.entries.get(entry.name) === entry) this.entries.delete(entry.name);
    if (this.byKey.get(RepoIndex.key(entry)) === entry) this.byKey.delete(RepoIndex.key(entry));
    const family = `${entry.package} ${entry.architecture}`;
    this.families.get(family)?.delete(entry);
    if (this.families.get(family)?.size === 0) this.families.delete(family);
    const count = (this.archCounts.get(entry.architecture) ?? 1) - 1;
    if (count > 0) this.archCounts.set(entry.architecture, count);
    else this.archCounts.delete(entry.architecture);
  }

  get architectures(): string[] {
    return [...this.archCounts.keys()].sort();
  }

  indexFiles(): Array<{ name: string; sha256: string; size: number }> {
    return [
      { name: 'Packages', sha256: this.packages.sha256(), size: this.packages.size },
      { name: 'Packages.gz', sha256: this.packagesGz.sha256(), size: this.packagesGz.size },
    ];
  }

  /** Appends stanzas (entries not yet listed): the cost is theirs, not the repository's. */
  async append(added: Array<{ entry: IndexEntry; stanza: string }>): Promise<void> {
    if (added.length === 0) return;
    const text = added.map((a, i) => (i === 0 && this.packages.size === 0 ? '' : '\n') + a.stanza).join('');
    const data = Buffer.from(text);
    await this.packages.append(data);
    await this.packagesGz.append(gzipSync(data));
    for (const a of added) this.remember(a.entry);
  }

  /**
   * Brings the index up to what is on disk now, after another coordinator
   * sharing the storage published (both files appended: their stanzas are
   * read, nothing else); 'replaced' when it compacted (the caller loads the
   * index again). Called under the repository's lock.
   */
  async catchUp(): Promise<IndexEntry[] | 'replaced'> {
    const text = await this.packages.appended();
    const gz = text ? await this.packagesGz.appended() : undefined;
    if (!text || !gz || (text.length === 0) !== (gz.length === 0)) return 'replaced';
    const added: IndexEntry[] = [];
    for (const stanza of text.toString('utf8').split(/\n\n+/)) {
      const entry = stanza.trim() ? entryOf(stanza) : undefined;
      if (entry) added.push(entry);
    }
    for (const entry of added) this.remember(entry);
    return added;
  }

  /** Debs beyond the newest `keep` versions (dpkg order) of the given packages' families (0 keeps all). */
  pruneCandidates(keep: number, of: Iterable<IndexEntry> = this.entries.values()): IndexEntry[] {
    if (keep <= 0) return [];
    const families = new Set([...of].map((e) => `${e.package} ${e.architecture}`));
    return [...families].flatMap((family) => {
      const list = [...(this.families.get(family) ?? [])];
      return list.length <= keep ? [] : list.sort((a, b) => compareDebianVersions(b.version, a.version)).slice(keep);
    });
  }

  /**
   * Rewrites both files without `drop` (and with `add`), then deletes the
   * dropped debs that no entry names any more.
   */
  async compact(drop: IndexEntry[], add: Array<{ entry: IndexEntry; stanza: string }> = []): Promise<void> {
    const gone = new Set(drop);
    const text = await readFile(this.packages.file, 'utf8');
    const kept = text.split(/\n\n+/).filter((stanza) => {
      const e = stanza.trim() ? entryOf(stanza) : undefined;
      const live = e ? this.entries.get(e.name) : undefined;
      return live !== undefined && !gone.has(live) && live.sha256 === e?.sha256;
    });
    for (const e of drop) this.forget(e);
    for (const a of add) this.remember(a.entry);
    await this.rewrite([...kept.map((s) => `${s.replace(/\n+$/, '')}\n`), ...add.map((a) => a.stanza)]);
    for (const e of drop) if (!this.entries.has(e.name)) await rm(path.join(this.dir, e.name), { force: true });
  }

  private async rewrite(stanzas: string[]): Promise<void> {
    const data = Buffer.from(stanzas.join('\n'));
    const gz = gzipSync(data);
    await writeAtomic(path.join(this.dir, 'Packages'), data);
    await writeAtomic(path.join(this.dir, 'Packages.gz'), gz);
    const plain = path.join(this.dir, 'Packages');
    this.packages = await AppendFile.open(plain, createHash('sha256').update(data), data.length);
    this.packagesGz = await AppendFile.open(`${plain}.gz`, createHash('sha256').update(gz), gz.length);
  }
}

export async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
