import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

/** Identifies the compression from the first bytes; tar itself is recognised by its header later. */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x42, 0x5a, 0x68))
    throw new AoinbError('BUNDLE_INVALID', 'bzip2 archives are not accepted; use a plain, gzip, xz or zstd tar');
  return 'none';
}

export async function readHead(file: string, length = 512): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Passes data through, failing once more than `limit` bytes went by (a decompression bomb guard). */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new AoinbError('BUNDLE_TOO_LARGE', `archive decompresses to more than ${limit} bytes`));
      else done(null, chunk);
    },
  });
}

const gunzipBuffer = promisify(gunzip);

/** The plain tar behind a plain or gzip archive in memory, never more than `limit` bytes (the bomb guard). */
export async function decompressBuffer(data: Buffer, compression: 'none' | 'gzip', limit: number): Promise<Buffer> {
  if (compression === 'none') {
    if (data.length > limit)
      throw new AoinbError('BUNDLE_TOO_LARGE', `archive decompresses to more than ${limit} bytes`);
    return data;
  }
  try {
    return await gunzipBuffer(data, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new AoinbError('BUNDLE_TOO_LARGE', `archive decompresses to more than ${limit} bytes`);
    throw new AoinbError('BUNDLE_INVALID', `archive could not be decompressed: ${(err as Error).message}`);
  }
}

/**
 * Writes the plain tar behind `input` to `output`, never more than `limit`
 * bytes. gzip is handled in-process; xz and zstd by their command-line tools.
 */
export async function decompressTo(
  input: string,
  output: string,
  compression: Compression,
  limit: number,
): Promise<void> {
  if (compression === 'none' || compression === 'gzip') {
    const stages: Array<Readable | Transform> = [createReadStream(input)];
    if (compression === 'gzip') stages.push(createGunzip());
    try {
      await pipeline([...stages, byteLimit(limit), createWriteStream(output)]);
    } catch (err) {
      if (err instanceof AoinbError) throw err;
      throw new AoinbError('BUNDLE_INVALID', `archive could not be decompressed: ${(err as Error).message}`);
    }
    return;
  }
  const tool = compression === 'xz' ? 'xz' : 'zstd';
  // Cap the decoder's memory: a crafted header may ask for a huge dictionary/window.
  const memory = compression === 'xz' ? ['--memlimit-decompress=256MiB'] : ['--memory=256MB'];
  const child = execa(tool, ['-dc', ...memory, '--', input], {
    buffer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await pipeline(child.stdout, byteLimit(limit), createWriteStream(output));
  } catch (err) {
    child.kill();
    await child;
    if (err instanceof AoinbError) throw err;
    throw new AoinbError('BUNDLE_INVALID', `archive could not be decompressed: ${(err as Error).message}`);
  }
  const result = await child;
  if (result.exitCode !== 0)
    throw new AoinbError('BUNDLE_INVALID', `archive could not be decompressed (${tool}): ${stderr.trim()}`);
}
