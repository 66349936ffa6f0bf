import { appendFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { tempFileFor } from './repo-files.ts';
import { ResumableSha256 } from './resumable-sha256.ts';

/**
 * The index files of a flat repository, each appendable: gzip members can be
 * concatenated. No Packages.xz: apt reads only the first of concatenated xz
 * streams (apt-helper cat-file, and apt-get update fails with Hash Sum
 * mismatch), so an appendable xz needs one multi-block stream whose index and
 * footer are rewritten per publish (see docs/repository.md).
 */
export const indexNames = ['Packages', 'Packages.gz'] as const;
export type IndexName = (typeof indexNames)[number];

const gzipAsync = promisify(gzip);

/** The form of `data` appended to one index file (one more gzip member). */
export async function appendForm(name: IndexName, data: Buffer): Promise<Buffer> {
  // A few stanzas: gzip at once on this thread is cheaper than a trip to the thread pool.
  if (name === 'Packages.gz') return gzipSync(data);
  return data;
}

/** The whole file for `data` (a compaction or a rebuild): off the event loop, the best compression. */
export function wholeForm(name: IndexName, data: Buffer): Promise<Buffer> {
  if (name === 'Packages.gz') return gzipAsync(data, { level: 9 });
  return Promise.resolve(data);
}

/** One append-only index file: its size and a running sha256 whose state can be saved. */
export class IndexFile {
  constructor(
    readonly name: IndexName,
    readonly file: string,
    readonly hash: ResumableSha256,
  ) {}

  get size(): number {
    return this.hash.length;
  }

  sha256(): string {
    return this.hash.digest();
  }

  async append(data: Buffer): Promise<void> {
    await appendFile(this.file, data);
    this.hash.update(data);
  }

  /** Replaces the file with `data` (written beside it, then renamed). */
  static async write(dir: string, name: IndexName, data: Buffer): Promise<IndexFile> {
    const file = path.join(dir, name);
    await writeAtomic(file, data);
    return new IndexFile(name, file, new ResumableSha256().update(data));
  }
}

export async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = await tempFileFor(file);
  await writeFile(tmp, data);
  await rename(tmp, file);
}
