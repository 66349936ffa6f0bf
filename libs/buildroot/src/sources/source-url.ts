import { AoinbError } from '@aoinb/errors';
import type { SourceToFetch } from './source-types.ts';

/**
 * Which URLs the host fetches for a bundle: http and https, for tarballs,
 * plain files, pypi and git alike; that is what AOSC's tree uses (5,300 of
 * its 5,400 source URLs). `file://` never: it would copy host files (tokens,
 * the Redis file) into the build. Other schemes and VCS types are refused by
 * name rather than guessed at.
 */
const unsupportedTypes = new Set(['hg', 'svn', 'bzr', 'fossil']);

/** Parses and checks one URL the host is about to connect to (`where` says why, e.g. a redirect). */
export function checkFetchUrl(raw: string, where = 'source'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AoinbError('BUNDLE_INVALID', `${where} URL ${JSON.stringify(raw)} is not a valid URL`);
  }
  if (url.protocol === 'file:')
    throw new AoinbError(
      'SOURCE_FORBIDDEN',
      `${where} URL ${JSON.stringify(raw)}: file:// URLs are never fetched (they would read the build host's ` +
        `own files)`,
    );
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AoinbError(
      'SOURCE_UNSUPPORTED',
      `${where} URL ${JSON.stringify(raw)}: the ${url.protocol.slice(0, -1)} scheme is not supported; ` +
        `use https or http`,
    );
  }
  if (url.hostname === '') throw new AoinbError('BUNDLE_INVALID', `${where} URL ${JSON.stringify(raw)} has no host`);
  return url;
}

/** Refuses, before anything is fetched, a source whose type or URL the host will not fetch. */
export function checkSource(source: SourceToFetch): void {
  if (unsupportedTypes.has(source.type)) {
    throw new AoinbError(
      'SOURCE_UNSUPPORTED',
      `source type ${source.type} (${source.url}) is not supported; supported: tbl, file, pypi and git, ` +
        `over https or http`,
    );
  }
  if (source.type === 'pypi') return;
  checkFetchUrl(source.url, `${source.type} source`);
}
