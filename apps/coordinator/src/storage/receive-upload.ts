import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AoinbError, isLocalHostError, type ErrorCode } from '@aoinb/errors';

export interface ReceivedFile {
  file: string;
  size: number;
  sha256: string;
}

export interface ReceiveOptions {
  tmpDir: string;
  maxBytes: number;
  /** Error code when the body exceeds maxBytes. */
  tooLargeCode: ErrorCode;
  what: string;
  /** When given, the body's sha256 must match it. */
  expectedSha256?: string;
}

const drainLimit = 256 * 1024 * 1024;

export const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Streams a request body to a fresh file under `tmpDir`, hashing and counting as
 * it goes; stops at `maxBytes` without writing more. The caller renames the file
 * into place or removes it.
 */
export async function receiveUpload(body: Readable, options: ReceiveOptions): Promise<ReceivedFile> {
  await mkdir(options.tmpDir, { recursive: true });
  const file = path.join(options.tmpDir, `upload-${randomUUID()}`);
  const hash = createHash('sha256');
  let size = 0;
  const tooLarge = (): AoinbError =>
    new AoinbError(options.tooLargeCode, `${options.what} is larger than the limit of ${options.maxBytes} bytes`);
  // Past the limit the rest of the body is read and dropped (so the client gets the 413 rather
  // than a reset connection), up to a bound beyond which the connection is cut.
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > options.maxBytes) {
        done(size > options.maxBytes + drainLimit ? tooLarge() : null);
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      done(size > options.maxBytes ? tooLarge() : null);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(file, { mode: 0o644 }));
  } catch (error) {
    await rm(file, { force: true });
    if (error instanceof AoinbError) throw error;
    // Our own disk failing is not the client's fault: 507 (errors.ts), which the client retries later.
    if (isLocalHostError(error)) throw error;
    throw new AoinbError('USAGE', `${options.what} upload was interrupted: ${(error as Error).message}`);
  }
  const sha256 = hash.digest('hex');
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    await rm(file, { force: true });
    throw new AoinbError(
      'CHECKSUM_MISMATCH',
      `${options.what}: received sha256 ${sha256} but the request said ${options.expectedSha256}`,
    );
  }
  return { file, size, sha256 };
}
