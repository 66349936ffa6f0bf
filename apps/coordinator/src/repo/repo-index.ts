import { appendFile, link, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { appendForm, IndexFile, indexNames, wholeForm, writeAtomic, type IndexName } from './index-files.ts';
import {
  journalLine,
  journalName,
  loadState,
  saveState,
  savedStateOf,
  type HashedState,
  type SavedState,
} from './index-state.ts';
import { ResumableSha256 } from './resumable-sha256.ts';
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

/** How many earlier states of each index file stay fetchable by hash (apt's window between InRelease and the index). */
const historyPerFile = 32;

/**
 * A flat repository's index, kept incrementally. The index files only grow
 * between compactions: a publish appends its stanzas to `Packages` and as one
 * more gzip member to `Packages.gz` (apt reads concatenated members as one
 * stream), with sha256s kept
 * running and saved (index-state.ts), so a start reads neither the debs nor
 * `Packages`. Every earlier state of a file is a prefix of it: `by-hash`
 * serves it from the same file. Removals (pruned old versions, an admin's
 * replacement) are done by a compaction, which rewrites the files once from
 * the live entries and only then deletes the debs they no longer list, so a
 * listed deb is always there.
 */
export class RepoIndex {
  /** Every listed deb by file name (live or waiting for compaction). */
  readonly entries = new Map<string, IndexEntry>();
  /** Same, by `package version arch`. */
  readonly byKey = new Map<string, IndexEntry>();
  /** Entries of each `package arch`, for retention. */
  private readonly families = new Map<string, Set<IndexEntry>>();
  private readonly archCounts = new Map<string, number>();
  private files = new Map<IndexName, IndexFile>();
  private history: HashedState[] = [];
  private generation = 0;
  private journalSize = 0;

  private constructor(readonly dir: string) {}

  static key(e: { package: string; version: string; architecture: string }): string {
    return `${e.package} ${e.version} ${e.architecture}`;
  }

  /**
   * The index from its saved state and journal (no deb, no Packages read); if
   * they are missing or not in step with the files (a crash mid-append, a
   * repository from before them), rebuilt from `Packages`.
   */
  static async load(dir: string): Promise<RepoIndex> {
    const index = new RepoIndex(dir);
    const saved = await loadState(dir);
    if (saved) {
      for (const e of saved.entries) index.remember(e);
      index.generation = saved.state.generation;
      index.journalSize = saved.state.journalSize;
      for (const name of indexNames)
        index.files.set(
          name,
          new IndexFile(name, path.join(dir, name), ResumableSha256.restore(saved.state.files[name].hash)),
        );
      index.history = saved.state.history.filter((h) => h.generation >= index.generation - 1);
      return index;
    }
    const text = await readFile(path.join(dir, 'Packages'), 'utf8').catch(() => '');
    const stanzas = text
      .split(/\n\n+/)
      .filter((s) => s.trim())
      .map((s) => `${s.replace(/\n+$/, '')}\n`);
    for (const stanza of stanzas) {
      const entry = entryOf(stanza);
      if (entry) index.remember(entry);
    }
    await index.rewrite(stanzas.filter((s) => entryOf(s)));
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
    return indexNames.map((name) => {
      const f = this.files.get(name)!;
      return { name, sha256: f.sha256(), size: f.size };
    });
  }

  /**
   * Where `by-hash/SHA256/<sha256>` is: a prefix of `file` (the current one, or the one before the last
   * compaction).
   */
  byHash(sha256: string): { file: string; size: number } | undefined {
    const h = this.history.find((s) => s.sha256 === sha256);
    if (!h) return undefined;
    if (h.generation === this.generation) return { file: path.join(this.dir, h.name), size: h.size };
    return { file: path.join(this.dir, `.prev-${h.name}`), size: h.size };
  }

  /** Appends stanzas (entries not yet listed): the cost is theirs, not the repository's. */
  async append(added: Array<{ entry: IndexEntry; stanza: string }>): Promise<void> {
    if (added.length === 0) return;
    const first = this.files.get('Packages')!.size === 0;
    const data = Buffer.from(added.map((a, i) => (i === 0 && first ? '' : '\n') + a.stanza).join(''));
    const forms = await Promise.all(indexNames.map((name) => appendForm(name, data)));
    await Promise.all(indexNames.map((name, i) => this.files.get(name)!.append(forms[i]!)));
    const journal = Buffer.from(added.map((a) => journalLine(a.entry)).join(''));
    await appendFile(path.join(this.dir, journalName), journal);
    this.journalSize += journal.length;
    for (const a of added) this.remember(a.entry);
    await this.saved();
  }

  /** Records the files' current states (fetchable by hash) and saves the state a start reads. */
  private async saved(): Promise<void> {
    for (const f of this.files.values())
      this.history.push({ name: f.name, sha256: f.sha256(), size: f.size, generation: this.generation });
    this.history = this.history.slice(-historyPerFile * indexNames.length);
    const files = Object.fromEntries(
      [...this.files.values()].map((f) => [f.name, { size: f.size, hash: f.hash.save() }]),
    ) as SavedState['files'];
    await saveState(this.dir, {
      version: 1,
      generation: this.generation,
      journalSize: this.journalSize,
      files,
      history: this.history,
    });
  }

  /**
   * Whether the files are as this index left them (called under the
   * repository's lock): false after another coordinator sharing the storage
   * published or compacted, and the caller loads the index again from the state
   * every publish saves (a journal read, no Packages, no deb).
   */
  async isCurrent(): Promise<boolean> {
    const saved = await savedStateOf(this.dir);
    return (
      saved?.generation === this.generation &&
      saved.journalSize === this.journalSize &&
      indexNames.every((name) => saved.files[name]?.size === this.files.get(name)?.size)
    );
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
   * Rewrites the files without `drop` (and with `add`), then deletes the
   * dropped debs that no entry names any more.
   */
  async compact(drop: IndexEntry[], add: Array<{ entry: IndexEntry; stanza: string }> = []): Promise<void> {
    const gone = new Set(drop);
    const text = await readFile(path.join(this.dir, 'Packages'), 'utf8');
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

  /**
   * Every index file written anew (a new generation). The files of the one
   * before stay as `.prev-NAME` hard links, so a client that read the last
   * InRelease before this still gets its index by hash.
   */
  private async rewrite(stanzas: string[]): Promise<void> {
    const data = Buffer.from(stanzas.join('\n'));
    const forms = await Promise.all(indexNames.map((name) => wholeForm(name, data)));
    for (const name of indexNames) {
      const prev = path.join(this.dir, `.prev-${name}`);
      await rm(prev, { force: true });
      if (this.files.has(name)) await link(path.join(this.dir, name), prev).catch(() => undefined);
    }
    if (this.files.size > 0) this.generation += 1;
    this.history = this.history.filter((h) => h.generation === this.generation - 1);
    const files = new Map<IndexName, IndexFile>();
    for (const [i, name] of indexNames.entries()) files.set(name, await IndexFile.write(this.dir, name, forms[i]!));
    this.files = files;
    const journal = Buffer.from([...this.entries.values()].map(journalLine).join(''));
    await writeAtomic(path.join(this.dir, journalName), journal);
    this.journalSize = journal.length;
    await this.saved();
  }
}

export { writeAtomic };
