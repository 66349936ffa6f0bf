import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { fetchArchive } from './fetch-archive.ts';
import { fetchGit } from './fetch-git.ts';
import type { PreparedSource, SourceToFetch } from './source-types.ts';

/**
 * Fetches every source on the host into `destDir` and writes the `manifest` the
 * toolbox reads (`kind<TAB>name` per line, main source first). Nothing here runs
 * bundle code; archives are unpacked later, inside the container.
 */
export async function fetchSources(
  sources: SourceToFetch[],
  cacheDir: string,
  destDir: string,
  options: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<PreparedSource[]> {
  await mkdir(destDir, { recursive: true });
  const prepared: PreparedSource[] = [];
  for (const source of sources) {
    let result: PreparedSource;
    if (source.type === 'tbl' || source.type === 'file' || source.type === 'pypi') {
      result = await fetchArchive(source, cacheDir, destDir, options.signal);
    } else if (source.type === 'git') {
      result = await fetchGit(source, cacheDir, destDir, options.signal);
    } else {
      throw new AoinbError('SOURCE_UNSUPPORTED', `source type ${source.type} (${source.url}) is not supported yet; supported: tbl, file, pypi, git`);
    }
    options.onLine?.(`[aoinb] source ${result.name}: ${result.cached ? 'from cache' : 'fetched'} (${source.url})`);
    prepared.push(result);
  }
  await writeFile(path.join(destDir, 'manifest'), prepared.map((p) => `${p.kind}\t${p.name}\n`).join(''));
  return prepared;
}
