import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AoinbError } from '@aoinb/errors';
import { checkDestination, type CheckedAddress, type SourcePolicy } from './destination-policy.ts';
import { checkFetchUrl } from './source-url.ts';

const MAX_REDIRECTS = 10;

export interface DownloadResult {
  /** Hex digest of the bytes written. */
  digest: string;
  bytes: number;
}

export interface DownloadOptions {
  algorithm?: string;
  signal?: AbortSignal;
}

/** A lookup that answers with the one address already checked, so DNS cannot change between check and connect. */
function pinnedLookup(checked: CheckedAddress): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: checked.address, family: checked.family }]);
    else callback(null, checked.address, checked.family);
  }) as LookupFunction;
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

async function request(url: URL, policy: SourcePolicy, signal: AbortSignal): Promise<IncomingMessage> {
  const checked = await checkDestination(url.hostname, defaultPort(url), policy);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, {
      lookup: pinnedLookup(checked),
      signal,
      headers: { 'user-agent': 'aoinb', 'accept-encoding': 'identity' },
      timeout: policy.stallMs,
    });
    let response: IncomingMessage | undefined;
    req.once('response', (res) => resolve((response = res)));
    req.once('error', reject);
    // The socket's idle timeout covers the wait for headers and every gap in the body.
    req.on('timeout', () => {
      const stalled = new Error(`no data for ${policy.stallMs / 1000} s`);
      if (response) response.destroy(stalled);
      else req.destroy(stalled);
    });
  });
}

/** Follows redirects itself, checking each new URL's scheme and destination before connecting. */
async function open(start: string, policy: SourcePolicy, signal: AbortSignal): Promise<IncomingMessage> {
  let url = checkFetchUrl(start);
  for (let hop = 0; ; hop++) {
    const response = await request(url, policy, signal);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    response.resume();
    const location = response.headers.location;
    if (status < 300 || status >= 400 || !location)
      throw new Error(`HTTP ${status} ${response.statusMessage ?? ''}`.trim());
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    url = checkFetchUrl(new URL(location, url).href, `redirect from ${url.href}`);
  }
}

/** Hashes and counts what passes, failing once more than `maxBytes` went by. */
function hashWithLimit(hash: Hash, maxBytes: number, counted: (n: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      counted(seen);
      hash.update(chunk);
      if (seen > maxBytes)
        done(
          new AoinbError(
            'SOURCE_FETCH_FAILED',
            `download is larger than [build] source_max_mib (${maxBytes / 1048576} MiB)`,
          ),
        );
      else done(null, chunk);
    },
  });
}

/**
 * Downloads an http(s) `url` into `file` (which the caller names and later
 * moves into place), within the policy's destinations, size and time limits.
 * Returns the digest of what was written. Errors name the URL.
 */
export async function download(
  url: string,
  file: string,
  policy: SourcePolicy,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const timeout = AbortSignal.timeout(policy.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const hash = createHash(options.algorithm ?? 'sha256');
  let bytes = 0;
  try {
    const response = await open(url, policy, signal);
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length) && length > policy.maxBytes) {
      response.destroy();
      throw new AoinbError(
        'SOURCE_FETCH_FAILED',
        `download of ${length} bytes is larger than [build] source_max_mib (${policy.maxBytes / 1048576} MiB)`,
      );
    }
    const count = hashWithLimit(hash, policy.maxBytes, (n) => (bytes = n));
    await pipeline(response, count, createWriteStream(file, { flags: 'wx', mode: 0o644 }), { signal });
    return { digest: hash.digest('hex'), bytes };
  } catch (error) {
    const err =
      timeout.aborted && !options.signal?.aborted
        ? new Error(`took longer than [build] source_timeout_minutes (${policy.timeoutMs / 60000} min)`)
        : (error as Error);
    const message = `cannot download ${url}: ${err.message}`;
    if (error instanceof AoinbError) throw new AoinbError(error.code, message, { cause: error });
    throw new AoinbError('SOURCE_FETCH_FAILED', message, { cause: error });
  }
}
