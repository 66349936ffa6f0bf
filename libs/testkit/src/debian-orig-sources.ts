import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { withFileLock } from './file-lock.ts';

/**
 * Upstream source tarballs for tests, taken from Debian's own `.orig` files on
 * the Debian mirror (the only network the tests have). The chain of trust is
 * apt's: `InRelease` checked with gpgv against Debian's archive keyring, the
 * `Sources.xz` index against its sha256 in InRelease, each `.orig` file against
 * its sha256 in the index. Everything is cached under the test kit cache, keyed
 * by those hashes, written to a temporary name and renamed into place only once
 * verified, under an flock so concurrent test files fetch each file once.
 */

export interface DebianOrigRequest {
  /** A plain suite the mirror serves, e.g. `bookworm` or `trixie`. */
  suite: string;
  /** Debian's source package name. */
  source: string;
  /** Debian's full version of it, e.g. `2.2.5-3`. */
  version: string;
  /** The `.orig` file's name in that version, e.g. `figlet_2.2.5.orig.tar.gz`. */
  file: string;
}

export interface DebianOrig {
  /** The verified file in the cache (read-only use). */
  path: string;
  name: string;
  sha256: string;
  size: number;
  /** Where it came from on the mirror. */
  url: string;
}

export interface DebianOrigOptions {
  /** e.g. `http://deb.debian.org/debian`. */
  mirror: string;
  cacheDir: string;
  /** Default: Debian's archive keyring. */
  keyring?: string;
}

const debianKeyring = '/usr/share/keyrings/debian-archive-keyring.gpg';

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function download(url: string): Promise<Response> {
  const res = await fetch(url).catch((error: unknown) => {
    throw new AoinbError(
      'SOURCE_FETCH_FAILED',
      `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  if (!res.ok || !res.body) throw new AoinbError('SOURCE_FETCH_FAILED', `GET ${url}: HTTP ${res.status}`);
  return res;
}

/** InRelease, its signature checked by gpgv; returns the signed text only. */
async function verifiedRelease(options: DebianOrigOptions, suite: string): Promise<string> {
  const url = `${options.mirror}/dists/${suite}/InRelease`;
  const signed = Buffer.from(await (await download(url)).arrayBuffer());
  const keyring = options.keyring ?? debianKeyring;
  const result = await execa('gpgv', ['--keyring', keyring, '--output', '-', '-'], {
    input: signed,
    encoding: 'utf8',
    reject: false,
  });
  if (result.failed)
    throw new AoinbError(
      'CHECKSUM_MISMATCH',
      `${url}: the signature does not verify against ${keyring}: ${result.stderr.trim()}`,
    );
  return result.stdout;
}

/** The sha256 and size InRelease gives for one index file. */
function releaseEntry(release: string, indexPath: string, where: string): { sha256: string; size: number } {
  const section = /^SHA256:\n((?:[ \t].*\n?)*)/m.exec(release)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const [hash, size, name] = line.trim().split(/\s+/);
    if (name === indexPath && hash && size) return { sha256: hash, size: Number(size) };
  }
  throw new AoinbError('NOT_FOUND', `${where} lists no ${indexPath}`);
}

/** Downloads `url` to `dest`, checking its sha256 (and size) before the rename that makes it visible. */
async function fetchVerified(url: string, dest: string, expected: { sha256: string; size: number }): Promise<void> {
  const temp = `${dest}.part-${process.pid}`;
  try {
    const hash = createHash('sha256');
    let size = 0;
    const body = Readable.fromWeb((await download(url)).body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    await pipeline(body, createWriteStream(temp));
    const got = hash.digest('hex');
    if (got !== expected.sha256 || size !== expected.size) {
      throw new AoinbError(
        'CHECKSUM_MISMATCH',
        `${url}: got sha256 ${got} (${size} bytes), the index says ${expected.sha256} (${expected.size} bytes)`,
      );
    }
    await rename(temp, dest);
  } finally {
    await rm(temp, { force: true });
  }
}

/** The suite's source index (`main/source/Sources`, decompressed), cached by its sha256. */
async function sourcesIndex(options: DebianOrigOptions, suite: string): Promise<string> {
  const where = `${options.mirror}/dists/${suite}/InRelease`;
  const entry = releaseEntry(await verifiedRelease(options, suite), 'main/source/Sources.xz', where);
  const dir = path.join(options.cacheDir, 'debian-sources');
  const cached = path.join(dir, `${suite}-${entry.sha256.slice(0, 16)}.Sources`);
  if (!(await exists(cached))) {
    await mkdir(dir, { recursive: true });
    await withFileLock(path.join(dir, '.lock'), async () => {
      if (await exists(cached)) return;
      const xz = `${cached}.xz`;
      await fetchVerified(`${options.mirror}/dists/${suite}/main/source/Sources.xz`, xz, entry);
      try {
        const text = (await execa('xz', ['-dc', xz], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 })).stdout;
        await writeFile(`${cached}.part`, text);
        await rename(`${cached}.part`, cached);
      } finally {
        await rm(xz, { force: true });
      }
    });
  }
  return readFile(cached, 'utf8');
}

interface OrigEntry {
  directory: string;
  sha256: string;
  size: number;
}

/** Finds one source package version's `.orig` file in a Sources index. */
export function findOrigInSources(index: string, request: DebianOrigRequest): OrigEntry {
  const what = `${request.suite}'s Sources index`;
  const versions: string[] = [];
  for (const paragraph of index.split(/\n\n+/)) {
    if (!paragraph.startsWith(`Package: ${request.source}\n`)) continue;
    const version = /^Version: (\S+)$/m.exec(paragraph)?.[1] ?? '?';
    versions.push(version);
    if (version !== request.version) continue;
    const directory = /^Directory: (\S+)$/m.exec(paragraph)?.[1];
    const sums = /^Checksums-Sha256:\n((?:[ \t].*\n?)*)/m.exec(paragraph)?.[1] ?? '';
    for (const line of sums.split('\n')) {
      const [hash, size, name] = line.trim().split(/\s+/);
      if (name === request.file && hash && size && directory) return { directory, sha256: hash, size: Number(size) };
    }
    throw new AoinbError('NOT_FOUND', `${what}: ${request.source} ${request.version} has no file ${request.file}`);
  }
  const had = versions.length ? `it has ${versions.join(', ')}` : 'it has no such source package';
  throw new AoinbError('NOT_FOUND', `${what}: no ${request.source} ${request.version} (${had})`);
}

/**
 * One Debian `.orig` file, verified and cached under `<cacheDir>/debian-orig/`
 * (keyed by its sha256, so a changed file on the mirror is a new entry, never a
 * silently different one).
 */
export async function fetchDebianOrig(request: DebianOrigRequest, options: DebianOrigOptions): Promise<DebianOrig> {
  if (!/^[A-Za-z0-9][A-Za-z0-9+._~-]*$/.test(request.file))
    throw new AoinbError('USAGE', `fetchDebianOrig: ${JSON.stringify(request.file)} is not a plain file name`);
  const entry = findOrigInSources(await sourcesIndex(options, request.suite), request);
  const url = `${options.mirror}/${entry.directory}/${request.file}`;
  const dir = path.join(options.cacheDir, 'debian-orig');
  const cached = path.join(dir, `${entry.sha256.slice(0, 16)}-${request.file}`);
  const ready = async () => (await stat(cached).catch(() => undefined))?.size === entry.size;
  if (!(await ready())) {
    await mkdir(dir, { recursive: true });
    await withFileLock(path.join(dir, '.lock'), async () => {
      if (!(await ready())) await fetchVerified(url, cached, entry);
    });
  }
  // A cache entry is trusted only as far as its name: re-hash it (they are small) so a damaged one is caught.
  const got = sha256(await readFile(cached));
  if (got !== entry.sha256) {
    await rm(cached, { force: true });
    throw new AoinbError(
      'CHECKSUM_MISMATCH',
      `${cached}: sha256 ${got} is not ${entry.sha256} (${url}); removed, run again`,
    );
  }
  return { path: cached, name: request.file, sha256: entry.sha256, size: entry.size, url };
}
