import { randomBytes } from 'node:crypto';
import { copyFile, constants, lstat, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { checkPathComponent } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';
import type { SourcePolicy } from './destination-policy.ts';
import { download } from './download.ts';
import type { PreparedSource, SourceToFetch } from './source-types.ts';

const archivePattern = /\.(tar(\.(gz|xz|bz2|zst|lz|lzma|Z))?|tgz|tbz2?|txz|tzst|zip)$/i;

/** The file name a source gets inside the container: `rename=`, else the URL's last path segment, both checked. */
export function sourceFileName(source: SourceToFetch): string {
  if (source.options.rename !== undefined)
    return checkPathComponent(source.options.rename, `source ${source.url} rename=`);
  const name = path.posix.basename(new URL(sourceUrl(source)).pathname);
  if (!name) throw new AoinbError('BUNDLE_INVALID', `source ${source.url} has no file name; add rename=`);
  return checkPathComponent(name, `file name from URL ${source.url}`);
}

/** CHKSUMS algorithm names (acbs's, from Python's hashlib) to node:crypto's. */
const nodeAlgorithms: Record<string, string> = {
  md5: 'md5',
  sha1: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
  'sha3-256': 'sha3-256',
  'sha3-512': 'sha3-512',
};

/** pypi sources name a project; its sdist lives at a predictable path. */
export function sourceUrl(source: SourceToFetch): string {
  if (source.type !== 'pypi') return source.url;
  const name = checkPathComponent(source.url, 'pypi project name');
  const version = source.options.version ?? source.options.commit;
  if (!version) throw new AoinbError('BUNDLE_INVALID', `pypi source ${name} needs version=`);
  const parts = [name[0] as string, name, `${name}-${version}`].map(encodeURIComponent);
  return `https://pypi.io/packages/source/${parts.join('/')}.tar.gz`;
}

async function isRegularFile(file: string): Promise<boolean> {
  return lstat(file).then(
    (st) => st.isFile(),
    () => false,
  );
}

/** A fresh name beside `dir`'s entries that no other build or earlier crash can be using. */
function tempIn(dir: string): string {
  return path.join(dir, `.part-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/**
 * Fetches a tarball or plain file and puts it at `destDir/<name>`. With a
 * checksum, through the checksum-keyed cache: a hit costs no download, and a
 * miss downloads to a temporary file, verifies it, and only then renames it
 * into its cache entry, so the cache never holds a file that was not checked
 * (whatever crashes, or whichever build runs beside this one). A mismatch
 * fails here, on the host, before any container starts. `SKIP` sources are
 * never cached: their content may change upstream.
 */
export async function fetchArchive(
  source: SourceToFetch,
  cacheDir: string,
  destDir: string,
  policy: SourcePolicy,
  signal?: AbortSignal,
): Promise<PreparedSource> {
  const name = sourceFileName(source);
  const url = sourceUrl(source);
  const algorithm = source.checksum?.algo ?? 'sha256';
  const nodeAlgorithm = nodeAlgorithms[algorithm];
  if (!nodeAlgorithm)
    throw new AoinbError('BUNDLE_INVALID', `checksum algorithm ${algorithm} of ${source.url} is not supported`);
  const dest = path.join(destDir, name);
  const kind = source.type === 'file' || !archivePattern.test(name) ? 'file' : 'archive';
  const expected = source.checksum?.hex.toLowerCase();
  if (!expected) {
    const temp = tempIn(destDir);
    try {
      await download(url, temp, policy, { algorithm: nodeAlgorithm, signal });
      await rename(temp, dest);
    } finally {
      await rm(temp, { force: true });
    }
    return { kind, name, cached: false };
  }
  const filesDir = path.join(cacheDir, 'files');
  const cached = path.join(filesDir, `${algorithm}-${expected}`);
  await mkdir(filesDir, { recursive: true });
  const hit = await isRegularFile(cached);
  if (!hit) {
    const temp = tempIn(filesDir);
    try {
      const { digest } = await download(url, temp, policy, { algorithm: nodeAlgorithm, signal });
      if (digest !== expected)
        throw new AoinbError(
          'CHECKSUM_MISMATCH',
          `${name} from ${url}: ${algorithm} is ${digest}, spec CHKSUMS says ${expected}`,
        );
      await rename(temp, cached);
    } finally {
      await rm(temp, { force: true });
    }
  }
  await copyFile(cached, dest, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  return { kind, name, cached: hit };
}
