import { chmod, link, mkdir, open, readFile, stat, symlink, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { normalizeEntryName } from './archive-validate.ts';
import type { TarEntry } from './tar-headers.ts';

const chunkBytes = 1024 * 1024;
/** Archives up to this size are read once into memory (a bundle is a few KiB of scripts and patches). */
const inMemoryBytes = 8 * 1024 * 1024;

type Source = { whole: Buffer } | { tar: FileHandle };

/** Copies a member's data into a new file (never through an existing name or link), then its time. */
async function writeMember(source: Source, entry: TarEntry, file: string): Promise<void> {
  const out = await open(file, 'wx', entry.mode & 0o777);
  try {
    if ('whole' in source) {
      const data = source.whole.subarray(entry.dataOffset, entry.dataOffset + entry.size);
      if (data.length < entry.size) throw truncated(entry);
      await out.write(data);
    } else {
      const buf = Buffer.alloc(Math.min(chunkBytes, Math.max(1, entry.size)));
      for (let done = 0; done < entry.size;) {
        const want = Math.min(buf.length, entry.size - done);
        const { bytesRead } = await source.tar.read(buf, 0, want, entry.dataOffset + done);
        if (bytesRead < want) throw truncated(entry);
        await out.write(buf, 0, bytesRead);
        done += bytesRead;
      }
    }
    await out.utimes(entry.mtime, entry.mtime);
  } finally {
    await out.close();
  }
}

function truncated(entry: TarEntry): AoinbError {
  return new AoinbError('BUNDLE_INVALID', `not a tar archive: ${JSON.stringify(entry.name)} is truncated`);
}

/**
 * Writes the members of `tarFile` that validateEntries() accepted into `into` (an empty folder),
 * in-process: exactly the list that was checked is written (no second tar parser to read the
 * archive differently), and no process is started per upload (a `tar` start was a third of the
 * coordinator's time under load, docs/benchmarks.md). Folders first, then files and symlinks side
 * by side (each await is a turn of a loaded event loop: an upload's latency grows with the turns it
 * takes in a row), then hard links, then folders' modes and times. Files are created exclusively,
 * links as links, set-id and sticky bits dropped; folders get their mode (as tar's
 * `--no-same-permissions` under umask 022) last, so a read-only folder still receives its members.
 */
export async function writeTarMembers(tarFile: string | Buffer, entries: TarEntry[], into: string): Promise<void> {
  const named = entries.map((entry) => {
    const name = normalizeEntryName(entry.name);
    return { entry, at: name === '' ? into : path.join(into, name) };
  });
  const folders = new Set<string>();
  for (const { entry, at } of named) folders.add(entry.type === 'dir' ? at : path.dirname(at));
  // Parents before children (sorted), one mkdir per distinct folder.
  for (const folder of [...folders].sort()) await mkdir(folder, { recursive: true, mode: 0o755 });
  // A tar already in memory (a bundle-sized upload) is used as it is.
  const small = typeof tarFile !== 'string' || (await stat(tarFile)).size <= inMemoryBytes;
  const tar = small ? undefined : await open(tarFile, 'r');
  const source: Source = tar ? { tar } : { whole: typeof tarFile === 'string' ? await readFile(tarFile) : tarFile };
  try {
    await Promise.all(
      named.map(async ({ entry, at }): Promise<void> => {
        if (entry.type === 'file') await writeMember(source, entry, at);
        else if (entry.type === 'symlink') await symlink(entry.linkname, at);
        // validateEntries() refuses devices and fifos; this is the second line.
        else if (entry.type !== 'dir' && entry.type !== 'hardlink')
          throw new AoinbError('BUNDLE_UNSAFE', `${JSON.stringify(entry.name)}: ${entry.type} entries are not allowed`);
      }),
    );
  } finally {
    await tar?.close();
  }
  // A hard link's target is an earlier file of the archive (validateEntries()), written above.
  await Promise.all(
    named
      .filter(({ entry }) => entry.type === 'hardlink')
      .map(({ entry, at }) => link(path.join(into, normalizeEntryName(entry.linkname)), at)),
  );
  await Promise.all(
    named
      .filter(({ entry }) => entry.type === 'dir')
      .map(async ({ entry, at }) => {
        await chmod(at, entry.mode & 0o755);
        await utimes(at, entry.mtime, entry.mtime);
      }),
  );
}
