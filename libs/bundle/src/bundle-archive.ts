import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { assertTarArchive } from './archive-sniff.ts';
import { DEFAULT_ARCHIVE_LIMITS, validateEntries, type ArchiveLimits } from './archive-validate.ts';
import { isBundleFile, pathExists } from './bundle-files.ts';
import { decompressTo, detectCompression, readHead, type Compression } from './decompress.ts';
import { writeTarMembers } from './tar-extract.ts';
import { readTarEntries } from './tar-headers.ts';
import { checkTree } from './tree-check.ts';

export interface ExtractResult {
  /** The bundle folder (the destination). */
  dir: string;
  compression: Compression;
  entries: number;
  bytes: number;
}

/** Room for headers, padding and long names on top of the file bytes. */
function rawTarLimit(limits: ArchiveLimits): number {
  return limits.maxBytes + (limits.maxEntries + 4) * 3 * 512 + 1024 * 1024;
}

async function stageInput(input: string | Uint8Array, tmp: string, limits: ArchiveLimits): Promise<string> {
  if (typeof input !== 'string') {
    if (input.length > limits.maxArchiveBytes)
      throw new AoinbError('BUNDLE_TOO_LARGE', `archive is ${input.length} bytes (limit ${limits.maxArchiveBytes})`);
    const file = path.join(tmp, 'upload');
    await writeFile(file, input);
    return file;
  }
  const st = await stat(input);
  if (!st.isFile()) throw new AoinbError('BUNDLE_INVALID', `${input}: not a file`);
  if (st.size > limits.maxArchiveBytes)
    throw new AoinbError('BUNDLE_TOO_LARGE', `archive is ${st.size} bytes (limit ${limits.maxArchiveBytes})`);
  return input;
}

/**
 * Safely extracts an uploaded bundle archive (plain, gzip, xz or zstd tar)
 * into `dest`, which must not exist yet. Every member is listed and checked
 * first (archive-validate.ts); only then are those members written (tar-extract.ts),
 * into a fresh temporary folder next to `dest`; the result is checked again and
 * renamed into place. On any failure the temporary folder is removed and
 * `dest` is not created.
 */
export async function extractBundleArchive(
  archive: string | Uint8Array,
  dest: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ExtractResult> {
  const lim: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const target = path.resolve(dest);
  if (await pathExists(target)) throw new AoinbError('CONFLICT', `${target} already exists`);
  const tmp = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.extract-`));
  try {
    const input = await stageInput(archive, tmp, lim);
    const compression = detectCompression(await readHead(input, 8));
    // A plain tar is read where it is (its size is bounded by maxArchiveBytes); a compressed one is unpacked beside.
    const tarFile = compression === 'none' ? input : path.join(tmp, 'archive.tar');
    if (compression !== 'none') await decompressTo(input, tarFile, compression, rawTarLimit(lim));
    await assertTarArchive(tarFile);
    const entries = await readTarEntries(tarFile, lim.maxEntries);
    const checked = validateEntries(entries, lim);
    const tree = path.join(tmp, 'tree');
    await mkdir(tree, { mode: 0o755 });
    await writeTarMembers(tarFile, entries, tree);
    const bundle = checked.bundleRoot === '' ? tree : path.join(tree, checked.bundleRoot);
    const summary = await checkTree(bundle, { maxBytes: lim.maxBytes, maxEntries: lim.maxEntries, fixModes: true });
    if (!(await isBundleFile(bundle, 'spec')))
      throw new AoinbError('BUNDLE_INVALID', 'the extracted bundle has no spec file');
    await rename(bundle, target);
    return { dir: target, compression, entries: summary.entries, bytes: summary.bytes };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface PackOptions {
  maxBytes?: number;
  maxEntries?: number;
}

/**
 * Packs a bundle folder into a gzip-compressed tar (members relative to the
 * folder, owned by 0:0, sorted, VCS folders left out) for upload. The folder
 * is checked first: it must hold `spec`, and links must stay inside it.
 */
export async function packBundle(dir: string, options: PackOptions = {}): Promise<Buffer> {
  const root = path.resolve(dir);
  if (!(await isBundleFile(root, 'spec')))
    throw new AoinbError('BUNDLE_INVALID', `${root}: no spec file; not a bundle folder`);
  const maxBytes = options.maxBytes ?? DEFAULT_ARCHIVE_LIMITS.maxBytes;
  const maxEntries = options.maxEntries ?? DEFAULT_ARCHIVE_LIMITS.maxEntries;
  await checkTree(root, { maxBytes, maxEntries, skip: ['.git', '.svn', '.hg', '.bzr'] });
  const args = [
    '-C',
    root,
    '-cz',
    '-f',
    '-',
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--exclude-vcs',
    '.',
  ];
  const result = await execa('tar', args, {
    encoding: 'buffer',
    reject: false,
    maxBuffer: maxBytes * 2 + 16 * 1024 * 1024,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0)
    throw new AoinbError('INTERNAL', `tar could not pack ${root}: ${Buffer.from(result.stderr).toString().trim()}`);
  return Buffer.from(result.stdout);
}
