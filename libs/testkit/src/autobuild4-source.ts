import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { sharedFile } from './shared-inputs.ts';
import { sha256File } from './source-tarball.ts';

/** The one autobuild4 release the test base OS is made from (../shared/vendor/README.md). */
export const autobuild4Release = {
  version: '4.17.10',
  commit: '2d33bd7d0c9ae18a96a40dead5a78c77de7ce3b5',
  fileName: 'autobuild4-4.17.10.tar.gz',
  sha256: 'f22acb78367015aa8bbd642e0000f4c35a6a8956ebad8aba3b36d4fd29966e21',
  /** Where the quick start may fetch it on a machine without ../shared. */
  url: 'https://github.com/AOSC-Dev/autobuild4/archive/refs/tags/v4.17.10.tar.gz',
} as const;

async function exists(file: string): Promise<boolean> {
  return Boolean(await stat(file).catch(() => undefined));
}

/** Downloads the pinned release into `cacheDir` (verify, then rename into place). */
async function fetchRelease(cacheDir: string): Promise<string> {
  const target = path.join(cacheDir, autobuild4Release.fileName);
  if (await exists(target)) return target;
  const response = await fetch(autobuild4Release.url, { signal: AbortSignal.timeout(60_000) }).catch((error: Error) => {
    throw new AoinbError('NOT_FOUND', `fetching ${autobuild4Release.url} failed: ${error.message}`);
  });
  if (!response.ok)
    throw new AoinbError('NOT_FOUND', `fetching ${autobuild4Release.url} failed: HTTP ${response.status}`);
  await mkdir(cacheDir, { recursive: true });
  const temp = `${target}.${process.pid}.part`;
  try {
    await writeFile(temp, Buffer.from(await response.arrayBuffer()));
    const sha256 = await sha256File(temp);
    if (sha256 !== autobuild4Release.sha256) {
      throw new AoinbError(
        'CHECKSUM_MISMATCH',
        `${autobuild4Release.url} has sha256 ${sha256}, not the pinned ${autobuild4Release.sha256}`,
      );
    }
    await rename(temp, target);
    return target;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * autobuild4's source tarball: `../shared/vendor/` when present. Otherwise only
 * where `allowFetch` is set (the quick start) and not in CI, the same pinned
 * release downloaded and checked against its sha256. Tests never fetch.
 */
export async function autobuild4Tarball(options: {
  allowFetch?: boolean;
  cacheDir: string;
}): Promise<{ tarball: string; sha256: string }> {
  const shared = await sharedFile('vendor', autobuild4Release.fileName).catch((error: Error) => error);
  if (typeof shared === 'string') return { tarball: shared, sha256: await sha256File(shared) };
  if (!options.allowFetch || process.env.CI) throw shared;
  const tarball = await fetchRelease(options.cacheDir);
  return { tarball, sha256: autobuild4Release.sha256 };
}
