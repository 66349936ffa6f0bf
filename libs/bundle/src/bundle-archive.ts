import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { assertTarArchive, assertTarHead } from './archive-sniff.ts';
import { DEFAULT_ARCHIVE_LIMITS, validateEntries, type ArchiveLimits } from './archive-validate.ts';
import { isBundleFile, pathExists } from './bundle-files.ts';
import { decompressBuffer, decompressTo, detectCompression, readHead, type Compression } from './decompress.ts';
import { writeTarMembers } from './tar-extract.ts';
import { readTarEntries, tarEntriesOf, type TarEntry } from './tar-headers.ts';
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

/** Archives up to this size are unpacked in memory (a bundle is a few KiB of scripts and patches). */
const inMemoryBytes = 8 * 1024 * 1024;

function assertArchiveSize(size: number, limits: ArchiveLimits): void {
  if (size > limits.maxArchiveBytes)
    throw new AoinbError('BUNDLE_TOO_LARGE', `archive is ${size} bytes (limit ${limits.maxArchiveBytes})`);
}

async function stageInput(input: string | Uint8Array, tmp: string, limits: ArchiveLimits): Promise<string> {
  if (typeof input !== 'string') {
    assertArchiveSize(input.length, limits);
    const file = path.join(tmp, 'upload');
    await writeFile(file, input);
    return file;
  }
  const st = await stat(input);
  if (!st.isFile()) throw new AoinbError('BUNDLE_INVALID', `${input}: not a file`);
  assertArchiveSize(st.size, limits);
  return input;
}

/** The plain tar, checked to be one, and its members: where the archive is read and decompressed. */
export interface ArchiveTar {
  compression: Compression;
  /** The plain tar: in memory, or a file (the input itself when uncompressed). */
  tar: Buffer | string;
  entries: TarEntry[];
}

/** A large or xz/zstd archive: decompressed to a file beside, read from there. */
export async function tarFromFile(input: string, tmp: string, limits: ArchiveLimits): Promise<ArchiveTar> {
  const compression = detectCompression(await readHead(input, 8));
  // A plain tar is read where it is (its size is bounded by maxArchiveBytes); a compressed one is unpacked beside.
  const tarFile = compression === 'none' ? input : path.join(tmp, 'archive.tar');
  if (compression !== 'none') await decompressTo(input, tarFile, compression, rawTarLimit(limits));
  await assertTarArchive(tarFile);
  return { compression, tar: tarFile, entries: await readTarEntries(tarFile, limits.maxEntries) };
}

/**
 * A bundle-sized plain or gzip archive, read once and decompressed in memory: no intermediate file and
 * no rereads (each fs call is a turn of a loaded event loop, and CPU of its thread pool); undefined for
 * one this does not take.
 */
export async function tarInMemory(input: string | Uint8Array, limits: ArchiveLimits): Promise<ArchiveTar | undefined> {
  const st = typeof input === 'string' ? await stat(input) : undefined;
  // Not a file, or too large: stageInput() says so.
  if (st && (!st.isFile() || st.size > limits.maxArchiveBytes)) return undefined;
  const size = st?.size ?? input.length;
  if (size > inMemoryBytes) return undefined;
  assertArchiveSize(size, limits);
  const data = typeof input === 'string' ? await readFile(input) : Buffer.from(input);
  const compression = detectCompression(data.subarray(0, 8));
  if (compression !== 'none' && compression !== 'gzip') return undefined;
  const tar = await decompressBuffer(data, compression, rawTarLimit(limits));
  assertTarHead(tar.subarray(0, 512), tar.length);
  return { compression, tar, entries: await tarEntriesOf(tar, limits.maxEntries) };
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
    const { compression, tar, entries } =
      (await tarInMemory(archive, lim)) ?? (await tarFromFile(await stageInput(archive, tmp, lim), tmp, lim));
    const checked = validateEntries(entries, lim);
    const tree = path.join(tmp, 'tree');
    await mkdir(tree, { mode: 0o755 });
    await writeTarMembers(tar, entries, tree);
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
