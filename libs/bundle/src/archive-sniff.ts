import { stat } from 'node:fs/promises';
import { AoinbError } from '@aoinb/errors';
import { readHead } from './decompress.ts';

/** What a few leading bytes say a file is, for messages. */
function describe(head: Buffer): string | undefined {
  const starts = (text: string): boolean => head.subarray(0, text.length).toString('latin1') === text;
  if (starts('PK\x03\x04') || starts('PK\x05\x06') || starts('PK\x07\x08')) return 'a zip archive';
  if (starts('7z\xbc\xaf\x27\x1c')) return 'a 7-Zip archive';
  if (starts('Rar!')) return 'a RAR archive';
  if (starts('!<arch>\n')) return 'an ar archive (a .deb?)';
  if (starts('%PDF')) return 'a PDF document';
  if (/^\s*[{[<]/.test(head.subarray(0, 64).toString('latin1'))) return 'text (JSON, HTML or XML)';
  return undefined;
}

/** A valid first tar header (its checksum adds up), whatever its member is called. */
function tarHeader(head: Buffer): boolean {
  if (head.length < 512) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (head[i] as number);
  const field = head
    .subarray(148, 156)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  return /^[0-7]+$/.test(field) && parseInt(field, 8) === sum;
}

/**
 * Refuses, with what was seen, an upload that cannot be a tar: empty, shorter
 * than one tar header, or another archive format (a zip, say). Without this a
 * zip or an empty body would read as a tar with no members, reported as
 * "no spec file". `tarFile` is the upload after decompression.
 */
export async function assertTarArchive(tarFile: string): Promise<void> {
  const { size } = await stat(tarFile);
  assertTarHead(size === 0 ? Buffer.alloc(0) : await readHead(tarFile, 512), size);
}

/** The same check on the first 512 bytes (or fewer) of a tar of `size` bytes. */
export function assertTarHead(head: Buffer, size: number): void {
  if (size === 0) throw new AoinbError('BUNDLE_INVALID', 'not a tar archive: the body is empty');
  if (tarHeader(head) || head.every((b) => b === 0)) return;
  const seen = describe(head);
  if (seen)
    throw new AoinbError(
      'BUNDLE_INVALID',
      `not a tar archive: this is ${seen}; upload a tar, tar.gz, tar.xz or tar.zst`,
    );
  if (size < 512)
    throw new AoinbError('BUNDLE_INVALID', `not a tar archive: only ${size} bytes, less than one tar header`);
}
