import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError, isAoinbError } from '@aoinb/errors';
import { pathExists } from './bundle-files.ts';
import { indexTree, resolvePackage, type TreeIndex } from './tree-index.ts';

/**
 * ABBS tree group files (`groups/NAME`): one `category/pkgname` per line,
 * optionally with a `:modifiers` suffix (`core-devel/llvm:+stage2`, as acbs
 * and BuildIt! strip it), or a bare package name that is looked up in the
 * tree as acbs does (tree-index.ts; 8 of the tree's 95 groups), `#` comments, blank lines, and `groups/OTHER`
 * lines that expand in place. `groups/NAME.<arch>` is preferred when reading
 * for that arch (the tree keeps such variants, often as symlinks; a variant
 * checked out without symlink support holds the text `./NAME`, read as a
 * reference to `groups/NAME`). Duplicates keep their first position.
 */
export interface GroupEntry {
  /** `category/pkgname`. */
  path: string;
  /** The text after `:` (e.g. `+stage2`), or `''`. */
  modifiers: string;
}

const GROUP_REF = /^groups\/([A-Za-z0-9][A-Za-z0-9+._-]*)$/;
const SYMLINK_STUB = /^\.\/([A-Za-z0-9][A-Za-z0-9+._-]*)$/;
const PACKAGE = /^([a-z0-9][a-z0-9+._-]*)\/([A-Za-z0-9][A-Za-z0-9+._-]*)(?::(\S+))?$/;
/** A bare package name (`dotnet-host`), found by searching the tree as acbs does. */
const BARE = /^([A-Za-z0-9][A-Za-z0-9+._-]*)(?::(\S+))?$/;
const MAX_DEPTH = 32;
const MAX_BYTES = 1024 * 1024;

function invalid(where: string, message: string): AoinbError {
  return new AoinbError('GROUP_INVALID', `${where}: ${message}`);
}

interface Reader {
  tree: string;
  index?: TreeIndex;
  arch: string | undefined;
  out: GroupEntry[];
  seen: Set<string>;
}

/** Picks `groups/NAME.<arch>` over `groups/NAME`; checks the file stays inside the tree. */
async function locate(r: Reader, name: string, where: string, top: boolean): Promise<string> {
  const candidates = r.arch ? [`groups/${name}.${r.arch}`, `groups/${name}`] : [`groups/${name}`];
  for (const rel of candidates) {
    const full = path.join(r.tree, rel);
    if (!(await pathExists(full))) continue;
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      throw invalid(rel, 'is a dangling symlink');
    }
    if (!real.startsWith((await realpath(r.tree)) + path.sep)) throw invalid(rel, 'points outside the tree');
    return rel;
  }
  if (top) throw new AoinbError('NOT_FOUND', `groups/${name}: no such group in ${r.tree}`);
  throw invalid(where, `groups/${name} does not exist`);
}

async function parseEntry(r: Reader, line: string, at: string): Promise<GroupEntry> {
  const m = PACKAGE.exec(line);
  if (m) return { path: `${m[1]}/${m[2]}`, modifiers: m[3] ?? '' };
  const bare = BARE.exec(line);
  if (!bare)
    throw invalid(at, `expected category/pkgname[:modifiers], pkgname or groups/NAME, got ${JSON.stringify(line)}`);
  r.index ??= await indexTree(r.tree);
  try {
    return { path: await resolvePackage(r.index, bare[1] as string, at), modifiers: bare[2] ?? '' };
  } catch (err) {
    if (isAoinbError(err)) throw new AoinbError('GROUP_INVALID', err.message);
    throw err;
  }
}

async function expand(r: Reader, name: string, stack: string[], where: string): Promise<void> {
  const ref = `groups/${name}`;
  if (stack.includes(ref)) throw invalid(where, `group nesting forms a cycle: ${[...stack, ref].join(' -> ')}`);
  if (stack.length >= MAX_DEPTH) throw invalid(where, `groups nest more than ${MAX_DEPTH} deep`);
  const rel = await locate(r, name, where, stack.length === 0);
  const data = await readFile(path.join(r.tree, rel));
  if (data.length > MAX_BYTES) throw invalid(rel, `is larger than ${MAX_BYTES} bytes`);
  const lines = data.toString('utf8').split('\n');
  for (const [i, rawLine] of lines.entries()) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const at = `${rel}:${i + 1}`;
    const nested = GROUP_REF.exec(line) ?? SYMLINK_STUB.exec(line);
    if (nested) {
      await expand(r, nested[1] as string, [...stack, ref], at);
      continue;
    }
    const entry = await parseEntry(r, line, at);
    if (r.seen.has(entry.path)) continue;
    r.seen.add(entry.path);
    r.out.push(entry);
  }
}

/**
 * Reads `groups/NAME` from an ABBS tree and expands it into the list of
 * packages to build, in order. `arch` selects per-arch variant files;
 * `index` (indexTree) saves indexing the tree again for bare names.
 */
export async function readGroup(
  treeDir: string,
  group: string,
  arch?: string,
  options: { index?: TreeIndex } = {},
): Promise<GroupEntry[]> {
  const m = GROUP_REF.exec(group);
  if (!m) throw new AoinbError('USAGE', `group must be written groups/NAME, got ${JSON.stringify(group)}`);
  const r: Reader = { tree: path.resolve(treeDir), index: options.index, arch, out: [], seen: new Set() };
  await expand(r, m[1] as string, [], group);
  return r.out;
}
