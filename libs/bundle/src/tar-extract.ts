import { chmod, link, mkdir, open, symlink, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { normalizeEntryName } from './archive-validate.ts';
import type { TarEntry } from './tar-headers.ts';

const chunkBytes = 1024 * 1024;

/** Copies `size` bytes at `offset` of the tar into a new file (never through an existing name or link). */
async function writeMember(tar: FileHandle, entry: TarEntry, file: string): Promise<void> {
  const out = await open(file, 'wx', entry.mode & 0o777);
  try {
    const buf = Buffer.alloc(Math.min(chunkBytes, Math.max(1, entry.size)));
    for (let done = 0; done < entry.size;) {
      const want = Math.min(buf.length, entry.size - done);
      const { bytesRead } = await tar.read(buf, 0, want, entry.dataOffset + done);
      if (bytesRead < want)
        throw new AoinbError('BUNDLE_INVALID', `not a tar archive: ${JSON.stringify(entry.name)} is truncated`);
      await out.write(buf, 0, bytesRead);
      done += bytesRead;
    }
  } finally {
    await out.close();
  }
  await utimes(file, entry.mtime, entry.mtime);
}

/**
 * Writes the members of `tarFile` that validateEntries() accepted into `into` (an empty folder),
 * in-process: exactly the list that was checked is written (no second tar parser to read the
 * archive differently), and no process is started per upload (a `tar` start was a third of the
 * coordinator's time under load, docs/benchmarks.md). Files are created exclusively, links as
 * links, set-id and sticky bits dropped; folders get their mode (as tar's `--no-same-permissions`
 * under umask 022) and time last, so a read-only folder still receives its members.
 */
export async function writeTarMembers(tarFile: string, entries: TarEntry[], into: string): Promise<void> {
  const tar = await open(tarFile, 'r');
  const dirs: Array<{ at: string; entry: TarEntry }> = [];
  try {
    for (const entry of entries) {
      const name = normalizeEntryName(entry.name);
      const at = name === '' ? into : path.join(into, name);
      if (entry.type === 'dir') {
        await mkdir(at, { recursive: true, mode: 0o755 });
        dirs.push({ at, entry });
        continue;
      }
      await mkdir(path.dirname(at), { recursive: true, mode: 0o755 });
      if (entry.type === 'file') await writeMember(tar, entry, at);
      else if (entry.type === 'symlink') await symlink(entry.linkname, at);
      else if (entry.type === 'hardlink') await link(path.join(into, normalizeEntryName(entry.linkname)), at);
      // validateEntries() refuses devices and fifos; this is the second line.
      else
        throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(entry.name)}: ${entry.type} entries are not allowed`);
    }
    for (const { at, entry } of dirs.reverse()) {
      await chmod(at, entry.mode & 0o755);
      await utimes(at, entry.mtime, entry.mtime);
    }
  } finally {
    await tar.close();
  }
}
