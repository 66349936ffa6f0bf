import { extractBundleArchive } from '@aoinb/bundle';

/**
 * Extracts the downloaded bundle with the bundle library's safe extraction (the
 * coordinator checked it already; a worker trusts nothing it did not check
 * itself). `dest` must not exist.
 */
export async function extractBundle(archive: string, dest: string, maxArchiveBytes: number): Promise<void> {
  await extractBundleArchive(archive, dest, { maxArchiveBytes, maxBytes: 4 * maxArchiveBytes });
}
