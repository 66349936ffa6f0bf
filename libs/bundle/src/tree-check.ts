import { chmod, lstat, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';

/**
 * Walks a folder and checks what it holds: only files, folders and symlinks,
 * links that resolve inside `root`, no more than `maxBytes` / `maxEntries`.
 * With `fixModes`, set-id and sticky bits are cleared. Used after extraction
 * (a second line of defence) and before packing a bundle for upload.
 */
export interface TreeCheckOptions {
  maxBytes: number;
  maxEntries: number;
  fixModes?: boolean;
  /** Folder names to skip (e.g. `.git` when packing). */
  skip?: readonly string[];
}

export interface TreeSummary {
  entries: number;
  bytes: number;
}

const MAX_LINK_HOPS = 40;

/**
 * Whether a link at `rel` (relative to `root`) resolves inside `root`, decided
 * the way the kernel resolves it (each `..` applies to where the path really
 * is, after any link on the way is followed), never above `root`, and the same
 * whether or not its target exists: a component that does not exist may not be
 * followed by `..`. So a link that dangles here cannot reach host files after
 * the tree is moved elsewhere.
 */
async function staysInside(root: string, rel: string, target: string): Promise<boolean> {
  const at = path
    .dirname(rel)
    .split(path.sep)
    .filter((p) => p !== '' && p !== '.');
  let queue = target.split('/');
  let hops = 0;
  let missing = false;
  if (path.isAbsolute(target)) return false;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (missing || at.length === 0) return false;
      at.pop();
      continue;
    }
    if (missing) continue;
    const here = path.join(root, ...at, part);
    const st = await lstat(here).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (st?.isSymbolicLink()) {
      const next = await readlink(here);
      if (path.isAbsolute(next) || ++hops > MAX_LINK_HOPS) return false;
      queue = [...next.split('/'), ...queue];
      continue;
    }
    if (!st) missing = true;
    at.push(part);
  }
  return true;
}

async function checkLink(root: string, realRoot: string, full: string, rel: string): Promise<void> {
  const target = await readlink(full);
  const inside = (p: string, base: string): boolean => p === base || p.startsWith(base + path.sep);
  if (!(await staysInside(root, rel, target))) {
    throw new AoinbError(
      'BUNDLE_UNSAFE',
      `${JSON.stringify(rel)}: symlink to ${JSON.stringify(target)} points outside the bundle`,
    );
  }
  const real = await realpath(full).catch(() => undefined);
  if (real !== undefined && !inside(real, realRoot))
    throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(rel)}: symlink resolves outside the bundle (${real})`);
}

export async function checkTree(root: string, options: TreeCheckOptions): Promise<TreeSummary> {
  const realRoot = await realpath(root);
  const summary: TreeSummary = { entries: 0, bytes: 0 };
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const st = await lstat(full);
      if (st.isDirectory() && options.skip?.includes(name)) continue;
      if (++summary.entries > options.maxEntries)
        throw new AoinbError('BUNDLE_TOO_LARGE', `more than ${options.maxEntries} entries (at ${JSON.stringify(rel)})`);
      if (st.isSymbolicLink()) await checkLink(root, realRoot, full, rel);
      else if (st.isDirectory()) await walk(full);
      else if (st.isFile()) {
        summary.bytes += st.size;
        if (summary.bytes > options.maxBytes)
          throw new AoinbError('BUNDLE_TOO_LARGE', `${JSON.stringify(rel)}: contents exceed ${options.maxBytes} bytes`);
      } else {
        throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(rel)}: only files, folders and symlinks are allowed`);
      }
      if (options.fixModes && !st.isSymbolicLink() && (st.mode & 0o7000) !== 0) await chmod(full, st.mode & 0o777);
    }
  };
  await walk(root);
  return summary;
}
