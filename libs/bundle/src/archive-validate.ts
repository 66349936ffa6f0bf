import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import type { TarEntry } from './tar-headers.ts';

/**
 * The rules an uploaded bundle archive must pass before a single byte is
 * extracted: relative paths without `..`, only files, folders and links that
 * stay inside the bundle, no member below a link, no duplicates, and size and
 * entry-count limits. It also locates the bundle: `spec` at the archive root,
 * or inside exactly one top folder.
 */
export interface ArchiveLimits {
  /** Total bytes of all files once extracted. */
  maxBytes: number;
  /** Number of members. */
  maxEntries: number;
  /** Size of the uploaded (possibly compressed) archive. */
  maxArchiveBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxEntries: 20_000,
  maxArchiveBytes: 256 * 1024 * 1024,
};

export interface ValidatedArchive {
  /** The folder holding the bundle inside the archive: `''` (root) or `top`. */
  bundleRoot: string;
  entries: number;
  bytes: number;
}

function unsafe(name: string, message: string): AoinbError {
  return new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(name)}: ${message}`);
}

/** Normalises a member name; rejects absolute paths, `..`, control characters. */
export function normalizeEntryName(raw: string): string {
  if (raw.startsWith('/')) throw unsafe(raw, 'absolute paths are not allowed');
  if (/[\0-\x1f\x7f]/.test(raw)) throw unsafe(raw, 'control characters in names are not allowed');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(raw, '`..` path components are not allowed');
  return parts.join('/');
}

/** Where a link lands by its name alone (lexically), relative to the archive root; null when it leaves `within`. */
function linkLanding(linkName: string, target: string, within: string): string | null {
  if (target.startsWith('/')) return null;
  const landed = path.posix.normalize(path.posix.join(path.posix.dirname(linkName), target));
  if (landed === '..' || landed.startsWith('../')) return null;
  if (within === '') return landed === '.' ? '' : landed;
  return landed === within || landed.startsWith(`${within}/`) ? landed : null;
}

/** Links followed before a target counts as a loop (as tree-check.ts, which checks the tree once written). */
const MAX_LINK_HOPS = 40;

/**
 * Whether a symlink at `linkName` stays inside `within` once extracted, walked as the kernel will walk it
 * (and as tree-check.ts walks the written tree): each `..` applies to where the path really is after the
 * archive's own symlinks on the way are followed (`a -> .` makes `a/..` the folder above), never above
 * `within`, and never after a name the archive does not hold. A name alone (linkLanding) cannot tell.
 * No link here is absolute: checkEntry refused those.
 */
function staysInside(linkName: string, target: string, within: string, members: ArchiveMembers): boolean {
  const floor = within === '' ? 0 : within.split('/').length;
  const at = linkName.split('/').slice(0, -1);
  let queue = target.split('/');
  let hops = 0;
  let missing = false;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (missing || at.length <= floor) return false;
      at.pop();
      continue;
    }
    const here = [...at, part].join('/');
    const next = members.links.get(here);
    if (next !== undefined) {
      if (++hops > MAX_LINK_HOPS) return false;
      queue = [...next.split('/'), ...queue];
      continue;
    }
    // Nothing of the archive is below a name it does not hold (parents are recorded), so all stays missing.
    if (!members.types.has(here)) missing = true;
    at.push(part);
  }
  return true;
}

interface ArchiveMembers {
  types: Map<string, TarEntry['type']>;
  /** Symlinks by normalised name, to their targets. */
  links: Map<string, string>;
}

function findBundleRoot(types: Map<string, TarEntry['type']>): string {
  if (types.get('spec') === 'file') return '';
  const tops = new Set([...types.keys()].filter((n) => n !== '').map((n) => n.split('/')[0] as string));
  const [top] = [...tops];
  if (tops.size === 1 && top !== undefined && types.get(`${top}/spec`) === 'file') return top;
  throw new AoinbError(
    'BUNDLE_INVALID',
    tops.size === 1
      ? `no spec file at the archive root or in ${top}/`
      : `no spec file at the archive root, and the archive has ${tops.size} top-level entries instead of one folder`,
  );
}

function checkEntry(e: TarEntry, name: string, types: Map<string, TarEntry['type']>): void {
  if (e.type === 'chardev' || e.type === 'blockdev' || e.type === 'fifo')
    throw unsafe(e.name, `${e.type} entries are not allowed`);
  if (name === '' && e.type !== 'dir') throw unsafe(e.name, 'empty member name');
  const parts = name.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    const t = types.get(parent);
    if (t !== undefined && t !== 'dir') throw unsafe(e.name, `is inside ${parent}, which is a ${t}, not a folder`);
  }
  const prev = types.get(name);
  if (prev !== undefined && !(prev === 'dir' && e.type === 'dir'))
    throw unsafe(e.name, 'appears more than once in the archive');
  if (e.type === 'hardlink') {
    if (linkLanding('', e.linkname, '') === null)
      throw unsafe(e.name, `hard link to ${JSON.stringify(e.linkname)} points outside the bundle`);
    if (types.get(normalizeEntryName(e.linkname)) !== 'file') {
      throw unsafe(e.name, `hard link to ${JSON.stringify(e.linkname)}, which is not an earlier file of the archive`);
    }
  }
  if (e.type === 'symlink' && linkLanding(name, e.linkname, '') === null) {
    throw unsafe(e.name, `symlink to ${JSON.stringify(e.linkname)} points outside the bundle`);
  }
}

/** Checks every member; throws BUNDLE_UNSAFE / BUNDLE_TOO_LARGE / BUNDLE_INVALID naming the entry. */
export function validateEntries(entries: TarEntry[], limits: ArchiveLimits): ValidatedArchive {
  if (entries.length > limits.maxEntries)
    throw new AoinbError('BUNDLE_TOO_LARGE', `archive holds ${entries.length} entries (limit ${limits.maxEntries})`);
  const types = new Map<string, TarEntry['type']>();
  const names: string[] = [];
  const links = new Map<string, string>();
  let bytes = 0;
  for (const e of entries) {
    const name = normalizeEntryName(e.name);
    checkEntry(e, name, types);
    bytes += e.type === 'file' ? e.size : 0;
    if (bytes > limits.maxBytes)
      throw new AoinbError(
        'BUNDLE_TOO_LARGE',
        `${JSON.stringify(e.name)}: archive contents exceed ${limits.maxBytes} bytes`,
      );
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++)
      if (!types.has(parts.slice(0, i).join('/'))) types.set(parts.slice(0, i).join('/'), 'dir');
    types.set(name, e.type);
    names.push(name);
    if (e.type === 'symlink') links.set(name, e.linkname);
  }
  const bundleRoot = findBundleRoot(types);
  const where = bundleRoot === '' ? 'the bundle' : `the bundle folder ${bundleRoot}/`;
  entries.forEach((e, i) => {
    if (e.type === 'symlink' && !staysInside(names[i] as string, e.linkname, bundleRoot, { types, links })) {
      throw unsafe(e.name, `symlink to ${JSON.stringify(e.linkname)} points outside ${where}`);
    }
  });
  return { bundleRoot, entries: entries.length, bytes };
}

export { linkLanding };
