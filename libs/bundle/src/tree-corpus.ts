import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isAoinbError } from '@aoinb/errors';
import { readGroup } from './group-file.ts';
import { loadBundle } from './load-bundle.ts';
import type { TreeIndex } from './tree-index.ts';

/**
 * Runs the parser and the group reader over a whole ABBS tree: how many
 * packages load for an arch, and why the others are refused. Used by the
 * corpus test and by `libs/bundle/bench/tree-corpus.ts`.
 */
export interface Refusal {
  /** `category/name`. */
  package: string;
  message: string;
}

export interface TreeLoadReport {
  arch: string;
  total: number;
  loaded: number;
  refusals: Refusal[];
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Loads every package of the tree for `arch`; only AoinbErrors count as refusals, anything else throws. */
export async function loadWholeTree(index: TreeIndex, arch: string): Promise<TreeLoadReport> {
  const refusals: Refusal[] = [];
  await inParallel(index.packages, 16, async (pkg) => {
    try {
      await loadBundle(path.join(index.root, pkg), arch);
    } catch (err) {
      if (!isAoinbError(err)) throw err;
      refusals.push({ package: pkg, message: err.message });
    }
  });
  refusals.sort((a, b) => a.package.localeCompare(b.package));
  return { arch, total: index.packages.length, loaded: index.packages.length - refusals.length, refusals };
}

export interface GroupReport {
  /** `groups/NAME` files read (per-arch variants `NAME.<arch>` are read through their base name). */
  groups: string[];
  refusals: Array<{ group: string; arch: string | undefined; message: string }>;
}

/** Reads every group file of the tree, generically and for each arch. */
export async function readAllGroups(index: TreeIndex, archs: readonly string[]): Promise<GroupReport> {
  const files = (await readdir(path.join(index.root, 'groups'))).sort();
  const names = [
    ...new Set(
      files.map((f) =>
        f.replace(/\.[a-z0-9_]+$/, (suffix) => (files.includes(f.slice(0, -suffix.length)) ? '' : suffix)),
      ),
    ),
  ];
  const refusals: GroupReport['refusals'] = [];
  for (const name of names) {
    for (const arch of [undefined, ...archs]) {
      try {
        await readGroup(index.root, `groups/${name}`, arch, { index });
      } catch (err) {
        if (!isAoinbError(err)) throw err;
        refusals.push({ group: `groups/${name}`, arch, message: err.message });
      }
    }
  }
  return { groups: names.map((n) => `groups/${n}`), refusals };
}
