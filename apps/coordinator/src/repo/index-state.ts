import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { IndexEntry } from './repo-index.ts';
import { indexNames, writeAtomic, type IndexName } from './index-files.ts';

/**
 * What a coordinator start needs of a repository's index without reading
 * `Packages` (80 MB at 100k debs): `.index`, one JSON line per listed deb,
 * appended as debs are; `.index-state.json`, rewritten after every publish,
 * the sizes and saved sha256 states of the index files, the journal's size,
 * and the recent states served by hash. Neither is served (no dot files are).
 */
export const journalName = '.index';
const stateName = '.index-state.json';

/** One earlier (or the current) content of an index file, as `by-hash/SHA256/<sha256>` serves it: a prefix. */
export interface HashedState {
  name: IndexName;
  sha256: string;
  size: number;
  /** Compactions so far when it was current: the current generation is the file itself, the one before `.prev-NAME`. */
  generation: number;
}

export interface SavedState {
  version: 1;
  generation: number;
  journalSize: number;
  files: Record<IndexName, { size: number; hash: string }>;
  history: HashedState[];
}

export function journalLine(e: IndexEntry): string {
  return `${JSON.stringify([e.name, e.package, e.version, e.architecture, e.sha256, e.size])}\n`;
}

export async function saveState(dir: string, state: SavedState): Promise<void> {
  await writeAtomic(path.join(dir, stateName), JSON.stringify(state));
}

/** The saved state alone (no journal read): what another coordinator sharing the storage last wrote. */
export async function savedStateOf(dir: string): Promise<SavedState | undefined> {
  return readFile(path.join(dir, stateName), 'utf8')
    .then((t) => JSON.parse(t) as SavedState)
    .catch(() => undefined);
}

/**
 * The saved state and the entries of the journal, when every file is as the
 * state says (same sizes); undefined otherwise (none saved, or a coordinator
 * died between an append and the state's write): the index is then rebuilt from Packages.
 */
export async function loadState(dir: string): Promise<{ state: SavedState; entries: IndexEntry[] } | undefined> {
  const state = await savedStateOf(dir);
  if (state?.version !== 1) return undefined;
  for (const name of indexNames) {
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    if (info?.size !== state.files[name]?.size) return undefined;
  }
  const journal = await readFile(path.join(dir, journalName)).catch(() => undefined);
  if (!journal || journal.length < state.journalSize) return undefined;
  const text = journal.subarray(0, state.journalSize).toString('utf8').trimEnd();
  const rows = JSON.parse(`[${text.split('\n').filter(Boolean).join(',')}]`) as Array<
    [string, string, string, string, string, number]
  >;
  const entries = rows.map(([name, pkg, version, architecture, sha256, size]) => ({
    name,
    package: pkg,
    version,
    architecture,
    sha256,
    size,
  }));
  return { state, entries };
}
