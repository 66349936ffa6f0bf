import { createHash } from 'node:crypto';
import { access, copyFile, constants, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { download } from './download.ts';
import type { PreparedSource, SourceToFetch } from './source-types.ts';

const archivePattern = /\.(tar(\.(gz|xz|bz2|zst|lz|lzma|Z))?|tgz|tbz2?|txz|tzst|zip)$/i;

/** The file name a source gets inside the container. */
export function sourceFileName(source: SourceToFetch): string {
  if (source.options.rename) return path.basename(source.options.rename);
  const name = path.basename(new URL(sourceUrl(source)).pathname);
  if (!name) throw new AoinbError('BUNDLE_INVALID', `source ${source.url} has no file name; add rename=`);
  return name;
}

/** CHKSUMS algorithm names (acbs's, from Python's hashlib) to node:crypto's. */
const nodeAlgorithms: Record<string, string> = {
  md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512',
  blake2b: 'blake2b512', blake2s: 'blake2s256', 'sha3-256': 'sha3-256', 'sha3-512': 'sha3-512',
};

/** pypi sources name a project; its sdist lives at a predictable path. */
export function sourceUrl(source: SourceToFetch): string {
  if (source.type !== 'pypi') return source.url;
  const name = source.url;
  const version = source.options.version ?? source.options.commit;
  if (!version) throw new AoinbError('BUNDLE_INVALID', `pypi source ${name} needs version=`);
  return `https://pypi.io/packages/source/${name[0]}/${name}/${name}-${version}.tar.gz`;
}

/**
 * Fetches a tarball or plain file into the checksum-keyed cache (a hit costs no
 * download) and copies it into the workspace. A mismatch fails here, on the host,
 * before any container starts.
 */
export async function fetchArchive(source: SourceToFetch, cacheDir: string, destDir: string, signal?: AbortSignal): Promise<PreparedSource> {
  const name = sourceFileName(source);
  const url = sourceUrl(source);
  const algorithm = source.checksum?.algo ?? 'sha256';
  const nodeAlgorithm = nodeAlgorithms[algorithm];
  if (!nodeAlgorithm) throw new AoinbError('BUNDLE_INVALID', `checksum algorithm ${algorithm} of ${source.url} is not supported`);
  const expected = source.checksum?.hex.toLowerCase();
  const key = expected ? `${algorithm}-${expected}` : `url-${createHash('sha256').update(url).digest('hex')}`;
  const cached = path.join(cacheDir, 'files', key);
  await mkdir(path.dirname(cached), { recursive: true });
  // SKIP'd files are never trusted from cache: their content may change upstream.
  const hit = Boolean(expected) && (await access(cached, constants.R_OK).then(() => true, () => false));
  if (!hit) {
    const digest = await download(url, cached, { algorithm: nodeAlgorithm, signal });
    if (expected && digest !== expected) {
      await rm(cached, { force: true });
      throw new AoinbError('CHECKSUM_MISMATCH', `${name} from ${url}: ${algorithm} is ${digest}, spec CHKSUMS says ${expected}`);
    }
  }
  await copyFile(cached, path.join(destDir, name), constants.COPYFILE_FICLONE);
  const kind = source.type === 'file' || !archivePattern.test(name) ? 'file' : 'archive';
  return { kind, name, cached: hit };
}
