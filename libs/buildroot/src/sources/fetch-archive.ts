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
  const name = path.basename(new URL(source.url).pathname);
  if (!name) throw new AoinbError('BUNDLE_INVALID', `source ${source.url} has no file name; add rename=`);
  return name;
}

const supportedAlgorithms = new Set(['sha256', 'sha512', 'sha384', 'sha224', 'sha1', 'md5']);

/**
 * Fetches a tarball or plain file into the checksum-keyed cache (a hit costs no
 * download) and copies it into the workspace. A mismatch fails here, on the host,
 * before any container starts.
 */
export async function fetchArchive(source: SourceToFetch, cacheDir: string, destDir: string, signal?: AbortSignal): Promise<PreparedSource> {
  const name = sourceFileName(source);
  const algorithm = source.checksum?.algorithm ?? 'sha256';
  if (!supportedAlgorithms.has(algorithm)) {
    throw new AoinbError('BUNDLE_INVALID', `checksum algorithm ${algorithm} of ${source.url} is not supported`);
  }
  const key = source.checksum ? `${algorithm}-${source.checksum.digest.toLowerCase()}` : `url-${createHash('sha256').update(source.url).digest('hex')}`;
  const cached = path.join(cacheDir, 'files', key);
  await mkdir(path.dirname(cached), { recursive: true });
  // SKIP'd files are never trusted from cache: their content may change upstream.
  const hit = Boolean(source.checksum) && (await access(cached, constants.R_OK).then(() => true, () => false));
  if (!hit) {
    const digest = await download(source.url, cached, { algorithm, signal });
    if (source.checksum && digest !== source.checksum.digest.toLowerCase()) {
      await rm(cached, { force: true });
      throw new AoinbError('CHECKSUM_MISMATCH', `${name} from ${source.url}: ${algorithm} is ${digest}, spec CHKSUMS says ${source.checksum.digest}`);
    }
  }
  await copyFile(cached, path.join(destDir, name), constants.COPYFILE_FICLONE);
  const kind = source.type === 'file' || !archivePattern.test(name) ? 'file' : 'archive';
  return { kind, name, cached: hit };
}
