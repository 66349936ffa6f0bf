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

async function checkLink(root: string, realRoot: string, full: string, rel: string): Promise<void> {
  const target = await readlink(full);
  const lexical = path.resolve(path.dirname(full), target);
  const inside = (p: string, base: string): boolean => p === base || p.startsWith(base + path.sep);
  if (path.isAbsolute(target) || !inside(lexical, root)) {
    throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(rel)}: symlink to ${JSON.stringify(target)} points outside the bundle`);
  }
  try {
    const real = await realpath(full);
    if (!inside(real, realRoot)) throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(rel)}: symlink resolves outside the bundle (${real})`);
  } catch (err) {
    if (err instanceof AoinbError) throw err;
    // dangling link: the lexical check above is all there is to check
  }
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
      if (++summary.entries > options.maxEntries) throw new AoinbError('BUNDLE_TOO_LARGE', `more than ${options.maxEntries} entries (at ${JSON.stringify(rel)})`);
      if (st.isSymbolicLink()) await checkLink(root, realRoot, full, rel);
      else if (st.isDirectory()) await walk(full);
      else if (st.isFile()) {
        summary.bytes += st.size;
        if (summary.bytes > options.maxBytes) throw new AoinbError('BUNDLE_TOO_LARGE', `${JSON.stringify(rel)}: contents exceed ${options.maxBytes} bytes`);
      } else {
        throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(rel)}: only files, folders and symlinks are allowed`);
      }
      if (options.fixModes && !st.isSymbolicLink() && (st.mode & 0o7000) !== 0) await chmod(full, st.mode & 0o777);
    }
  };
  await walk(root);
  return summary;
}
