import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import type { SourcePolicy } from './destination-policy.ts';
import { fetchArchive, sourceFileName } from './fetch-archive.ts';
import { fetchGit, gitSourceName } from './fetch-git.ts';
import { checkSource } from './source-url.ts';
import type { PreparedSource, SourceToFetch } from './source-types.ts';

/** Checks every source's type, URL and name before the first byte is fetched; names must be distinct. */
function planNames(sources: SourceToFetch[]): string[] {
  const names: string[] = [];
  sources.forEach((source, i) => {
    checkSource(source);
    const name = source.type === 'git' ? gitSourceName(source) : sourceFileName(source);
    if (name === 'manifest')
      throw new AoinbError(
        'BUNDLE_UNSAFE',
        `source ${i + 1} (${source.url}): the name "manifest" is reserved; add rename=`,
      );
    const earlier = names.indexOf(name);
    if (earlier >= 0)
      throw new AoinbError(
        'BUNDLE_INVALID',
        `source ${i + 1} (${source.url}) and source ${earlier + 1} would both be ` +
          `named ${JSON.stringify(name)}; add rename=`,
      );
    names.push(name);
  });
  return names;
}

/**
 * Fetches every source on the host into `destDir` and writes the `manifest` the
 * toolbox reads (`kind<TAB>name` per line, main source first). Nothing here runs
 * bundle code; archives are unpacked later, inside the container.
 */
export async function fetchSources(
  sources: SourceToFetch[],
  cacheDir: string,
  destDir: string,
  policy: SourcePolicy,
  options: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<PreparedSource[]> {
  planNames(sources);
  await mkdir(destDir, { recursive: true });
  const prepared: PreparedSource[] = [];
  for (const source of sources) {
    const result =
      source.type === 'git'
        ? await fetchGit(source, cacheDir, destDir, policy, options.signal)
        : await fetchArchive(source, cacheDir, destDir, policy, options.signal);
    options.onLine?.(`[aoinb] source ${result.name}: ${result.cached ? 'from cache' : 'fetched'} (${source.url})`);
    prepared.push(result);
  }
  await writeFile(path.join(destDir, 'manifest'), prepared.map((p) => `${p.kind}\t${p.name}\n`).join(''));
  return prepared;
}
