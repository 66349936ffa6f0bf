import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import xz from 'xz-decompress';

/** The compressions dpkg-deb writes a control member with (`-Z`), by the member's name. */
export const controlMembers: Record<string, Compression> = {
  'control.tar': 'none',
  'control.tar.gz': 'gzip',
  'control.tar.xz': 'xz',
  'control.tar.zst': 'zstd',
};

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

const gunzipAsync = promisify(gunzip);

/** xz-embedded's error codes (xz.h), as XzReadableStream reports them. */
const xzErrors: Record<string, string> = {
  '2': 'an unsupported integrity check',
  '3': 'out of memory',
  '4': 'a dictionary above the 64 MiB limit',
  '5': 'not in xz format',
  '6': 'unsupported options',
  '7': 'corrupt data',
  '8': 'truncated data',
};

function tooLarge(limit: number): Error {
  return new Error(`unpacks to more than ${limit / 1024 / 1024} MiB`);
}

async function inflateXz(data: Buffer, limit: number): Promise<Buffer> {
  const reader = new xz.XzReadableStream(new Blob([data]).stream()).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks);
      total += value.length;
      if (total > limit) {
        await reader.cancel();
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    const code = /error code (\d+)/.exec((error as Error).message)?.[1];
    // A stream that ends early makes the library read past its input (a TypeError): truncated too.
    if (error instanceof TypeError) throw new Error('is not valid xz: truncated data');
    throw code ? new Error(`is not valid xz: ${xzErrors[code] ?? `error ${code}`}`) : error;
  }
}

/**
 * The window each zstd frame asks for (fzstd allocates it before decoding),
 * walked from the frame and block headers without decoding: a frame that
 * would need more than `limit` bytes is refused before any allocation.
 */
function checkZstdFrames(data: Buffer, limit: number): void {
  let at = 0;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error('is not valid zstd: truncated frame');
    const magic = data.readUInt32LE(at);
    if (magic >>> 4 === 0x184d2a5) {
      at += 8 + (at + 8 <= data.length ? data.readUInt32LE(at + 4) : 0);
      continue;
    }
    if (magic !== 0xfd2fb528) throw new Error('is not valid zstd: bad frame magic');
    const fhd = data[at + 4] ?? 0;
    const single = (fhd >> 5) & 1;
    const fcsBytes = [single, 2, 4, 8][fhd >> 6] as number;
    const dictBytes = [0, 1, 2, 4][fhd & 3] as number;
    let window = 0;
    if (!single) {
      const wd = data[at + 5] ?? 0;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    const fcsAt = at + 5 + (single ? 0 : 1) + dictBytes;
    if (fcsAt + fcsBytes > data.length) throw new Error('is not valid zstd: truncated frame header');
    const content = fcsBytes === 0 ? 0 : Number(data.readUIntLE(fcsAt, Math.min(fcsBytes, 6)));
    if (fcsBytes === 8 && data.readUInt16LE(fcsAt + 6) !== 0) throw tooLarge(limit);
    if (Math.max(window, content + (fcsBytes === 2 ? 256 : 0)) > limit) throw tooLarge(limit);
    at = fcsAt + fcsBytes;
    for (let last = 0; !last;) {
      if (at + 3 > data.length) throw new Error('is not valid zstd: truncated data');
      const header = data.readUIntLE(at, 3);
      last = header & 1;
      at += 3 + (((header >> 1) & 3) === 1 ? 1 : header >>> 3);
    }
    at += (fhd >> 2) & 1 ? 4 : 0;
  }
}

function inflateZstd(data: Buffer, limit: number): Buffer {
  checkZstdFrames(data, limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const stream = new Decompress((chunk, final) => {
    total += chunk.length;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
    ended ||= Boolean(final);
  });
  try {
    stream.push(data, true);
  } catch (error) {
    if ((error as Error).message.startsWith('unpacks')) throw error;
    throw new Error(`is not valid zstd: ${(error as Error).message}`);
  }
  if (!ended) throw new Error('is not valid zstd: truncated data');
  return Buffer.concat(chunks);
}

/** The member uncompressed, never more than `limit` bytes (else an error saying so). */
export async function inflate(data: Buffer, compression: Compression, limit: number): Promise<Buffer> {
  if (compression === 'none') return data;
  if (compression === 'xz') return inflateXz(data, limit);
  if (compression === 'zstd') return inflateZstd(data, limit);
  return gunzipAsync(data, { maxOutputLength: limit }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(limit) : new Error(`is not valid gzip: ${error.message}`);
  });
}
