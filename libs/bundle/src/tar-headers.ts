import { open, type FileHandle } from 'node:fs/promises';
import { AoinbError } from '@aoinb/errors';

/**
 * A reader of tar headers (v7, POSIX ustar/pax and GNU long names), used to
 * inspect an uploaded archive before anything is extracted. It reports every
 * member as GNU tar will see it: pax `path`/`linkpath`/`size` and GNU `L`/`K`
 * records are applied, and anything it does not fully understand (sparse
 * files, multi-volume records, unknown pax keys that change meaning) is
 * refused rather than guessed at.
 */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';

export interface TarEntry {
  name: string;
  type: EntryType;
  size: number;
  linkname: string;
  mode: number;
  /** Modification time, seconds since the epoch (pax `mtime` when given). */
  mtime: number;
  /** Where the member's data starts in the tar file. */
  dataOffset: number;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'dir',
  '6': 'fifo',
};

/** pax keys with no effect on what is written where (metadata tar may apply or ignore). */
const HARMLESS_PAX = new RegExp(
  '^(?:mtime|atime|ctime|uid|gid|uname|gname|comment|charset|hdrcharset' +
    '|SCHILY\\.(?:dev|ino|nlink|fflags)|LIBARCHIVE\\.creationtime)$',
);
const MAX_META = 1024 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true });

function unsafe(message: string): AoinbError {
  return new AoinbError('BUNDLE_UNSAFE', message);
}

function cstring(buf: Buffer, start: number, length: number, what: string): string {
  const slice = buf.subarray(start, start + length);
  const end = slice.indexOf(0);
  try {
    return decoder.decode(end < 0 ? slice : slice.subarray(0, end));
  } catch {
    throw unsafe(`${what} is not valid UTF-8`);
  }
}

function number(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length);
  if ((field[0] as number) & 0x80) {
    let n = (field[0] as number) & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] as number);
    return n;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new AoinbError('BUNDLE_INVALID', `not a tar archive: bad numeric field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
  return sum === number(header, 148, 8);
}

/** Parses pax extended header records (`"<len> key=value\n"`). */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = Number(data.subarray(pos, space).toString('latin1'));
    if (space < 0 || !Number.isInteger(len) || len <= 0 || pos + len > data.length)
      throw unsafe('malformed pax header record');
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw unsafe('malformed pax header record');
    let text: string;
    try {
      text = decoder.decode(record);
    } catch {
      throw unsafe('pax header is not valid UTF-8');
    }
    const key = text.slice(0, text.indexOf('='));
    out[key] = text.slice(text.indexOf('=') + 1);
    pos += len;
  }
  return out;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead < length)
    throw new AoinbError('BUNDLE_INVALID', `not a tar archive: truncated at byte ${offset + bytesRead}`);
  return buf;
}

interface Pending {
  longName?: string;
  longLink?: string;
  pax: Record<string, string>;
}

function checkPax(pax: Record<string, string>, global: boolean): void {
  for (const key of Object.keys(pax)) {
    if (HARMLESS_PAX.test(key)) continue;
    if (!global && (key === 'path' || key === 'linkpath' || key === 'size')) continue;
    throw unsafe(`pax ${global ? 'global ' : ''}header key ${JSON.stringify(key)} is not supported`);
  }
}

/** Builds the entry a (non-meta) header describes, applying pending pax / GNU long names. */
function member(header: Buffer, pending: Pending, size: number, at: number): TarEntry {
  checkPax(pending.pax, false);
  if (header.subarray(508, 512).toString('latin1') === 'tar\0')
    throw unsafe(`star-format archives are not supported (header at byte ${at})`);
  if (
    (pending.pax.path !== undefined && pending.longName !== undefined) ||
    (pending.pax.linkpath !== undefined && pending.longLink !== undefined)
  ) {
    throw unsafe(`member at byte ${at} has both a GNU long name and a pax path; refusing the ambiguity`);
  }
  const flag = String.fromCharCode(header[156] as number);
  const ustar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = ustar ? cstring(header, 345, 155, 'name prefix') : '';
  const shortName = cstring(header, 0, 100, 'name');
  const name = pending.pax.path ?? pending.longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
  const type = TYPES[flag];
  if (type === undefined)
    throw unsafe(`${JSON.stringify(name)}: tar entry type ${JSON.stringify(flag)} is not supported`);
  if (type !== 'file' && size > 0)
    throw unsafe(`${JSON.stringify(name)}: a ${type} entry that carries ${size} bytes of data is not supported`);
  const linkname = pending.pax.linkpath ?? pending.longLink ?? cstring(header, 157, 100, 'link name');
  const paxMtime = Number(pending.pax.mtime);
  const mtime = pending.pax.mtime !== undefined && Number.isFinite(paxMtime) ? paxMtime : number(header, 136, 12);
  const mode = number(header, 100, 8);
  return { name, type, size: type === 'file' ? size : 0, linkname, mode, mtime, dataOffset: at + 512 };
}

function dataSize(header: Buffer, flag: string, pending: Pending): number {
  const size = number(header, 124, 12);
  if ('xgLK'.includes(flag) || pending.pax.size === undefined) return size;
  if (!/^\d+$/.test(pending.pax.size)) throw unsafe(`pax size ${JSON.stringify(pending.pax.size)} is not a number`);
  return Number(pending.pax.size);
}

/** Lists every member of a plain (uncompressed) tar file. `maxEntries` bounds the work. */
export async function readTarEntries(file: string, maxEntries: number): Promise<TarEntry[]> {
  const fh = await open(file, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    // A bundle-sized archive is read at once: one read instead of one per header (each a turn of the event loop).
    const whole = fileSize <= 8 * 1024 * 1024 ? await fh.readFile() : undefined;
    const read = (offset: number, length: number): Promise<Buffer> =>
      whole && offset + length <= whole.length
        ? Promise.resolve(whole.subarray(offset, offset + length))
        : readAt(fh, offset, length);
    const entries: TarEntry[] = [];
    let pending: Pending = { pax: {} };
    let offset = 0;
    while (offset + 512 <= fileSize) {
      const at = offset;
      const header = await read(at, 512);
      if (header.every((b) => b === 0)) return entries;
      if (!checksumOk(header))
        throw new AoinbError('BUNDLE_INVALID', `not a tar archive (bad header checksum at byte ${at})`);
      const flag = String.fromCharCode(header[156] as number);
      const size = dataSize(header, flag, pending);
      offset = at + 512 + Math.ceil(size / 512) * 512;
      if (!'xgLK'.includes(flag)) {
        entries.push(member(header, pending, size, at));
        if (entries.length > maxEntries)
          throw new AoinbError(
            'BUNDLE_TOO_LARGE',
            `archive holds more than ${maxEntries} entries (at ${entries.at(-1)?.name})`,
          );
        pending = { pax: {} };
        continue;
      }
      if (size > MAX_META) throw unsafe(`extended header of ${size} bytes is too large`);
      const data = await read(at + 512, size);
      if (flag === 'x') pending.pax = { ...pending.pax, ...parsePax(data) };
      else if (flag === 'g') checkPax(parsePax(data), true);
      else if (flag === 'L') pending.longName = cstring(data, 0, size, 'long name');
      else pending.longLink = cstring(data, 0, size, 'long link name');
    }
    if (offset > fileSize) throw new AoinbError('BUNDLE_INVALID', 'not a tar archive: truncated member data');
    return entries;
  } finally {
    await fh.close();
  }
}
