import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { AoinbError } from '@aoinb/errors';

export interface DownloadProgress {
  received: number;
  total: number | undefined;
}

/**
 * Downloads `url` (http, https or file) to `dest` atomically: into `dest.part`
 * first, renamed only when complete. Returns the hex digest of what was written.
 * Only for the operator's own `[baseos] url`; a bundle's sources go through
 * sources/download.ts and its destination policy.
 */
export async function download(
  url: string,
  dest: string,
  options: { algorithm?: string; signal?: AbortSignal; onProgress?: (progress: DownloadProgress) => void } = {},
): Promise<string> {
  const part = `${dest}.part-${process.pid}`;
  const hash = createHash(options.algorithm ?? 'sha256');
  let received = 0;
  try {
    let body: Readable;
    let total: number | undefined;
    if (url.startsWith('file://')) {
      body = createReadStream(fileURLToPath(url));
    } else if (/^https?:\/\//.test(url)) {
      const response = await fetch(url, { signal: options.signal, redirect: 'follow' });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      total = Number(response.headers.get('content-length')) || undefined;
      body = Readable.fromWeb(response.body);
    } else {
      throw new Error('only http, https and file URLs can be downloaded');
    }
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      options.onProgress?.({ received, total });
    });
    await pipeline(body, createWriteStream(part), { signal: options.signal });
    await rename(part, dest);
    return hash.digest('hex');
  } catch (error) {
    await rm(part, { force: true });
    if (error instanceof AoinbError) throw error;
    throw new AoinbError('SOURCE_FETCH_FAILED', `cannot download ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
