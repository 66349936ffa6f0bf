/**
 * The `control` file of a .deb's control tar (ustar, GNU or pax, as dpkg-deb
 * and tar write it), read from the uncompressed archive in memory. Strict: a
 * member outside the folder (`..`, an absolute name), a link, a device, a
 * duplicate `control` or a bad header checksum is an error, since the index
 * must say what dpkg will install, and dpkg takes the last of two controls.
 */
const block = 512;

interface TarHeader {
  name: string;
  type: string;
  size: number;
  /** Where the member's data starts. */
  data: number;
}

function text(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(buf: Buffer, start: number, length: number, what: string): number {
  const raw = text(buf, start, length).trim();
  if (!/^[0-7]+$/.test(raw)) throw new Error(`member header has an invalid ${what} ${JSON.stringify(raw)}`);
  return Number.parseInt(raw, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = octal(header, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < block; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** `./control` -> `control`; throws for a name that leaves the folder. */
function normalised(name: string): string {
  if (name.startsWith('/')) throw new Error(`member ${JSON.stringify(name)} has an absolute name`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`member ${JSON.stringify(name)} leaves the folder (..)`);
  return parts.join('/');
}

/** The `path` and `size` records of a pax extended header (`<len> key=value\n`...). */
function paxRecords(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (space < 0 || !Number.isInteger(length) || length <= 0 || at + length > data.length)
      throw new Error('pax header has a malformed record');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    const [key, value] = [record.slice(0, eq), record.slice(eq + 1)];
    if (key === 'path') out.path = value;
    if (key === 'size') out.size = Number(value);
    at += length;
  }
  return out;
}

function headerAt(tar: Buffer, at: number): TarHeader | undefined {
  if (at + block > tar.length) throw new Error('archive ends inside a member header');
  const header = tar.subarray(at, at + block);
  if (header.every((b) => b === 0)) return undefined;
  if (!checksumOk(header)) throw new Error(`member header at byte ${at} has a wrong checksum`);
  const ustar = text(header, 257, 6) === 'ustar';
  const prefix = ustar && header.subarray(257, 263).toString('latin1') === 'ustar\0' ? text(header, 345, 155) : '';
  const name = prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100);
  const size = octal(header, 124, 12, 'size');
  const data = at + block;
  if (data + size > tar.length) throw new Error(`member ${JSON.stringify(name)} is truncated`);
  return { name, type: text(header, 156, 1) || '0', size, data };
}

const kinds: Record<string, string> = { '1': 'a hard link', '2': 'a symbolic link', '3': 'a device', '4': 'a device' };

/** The `control` file's bytes; throws (with what is wrong) for anything but one regular `control`. */
export function controlFromTar(tar: Buffer): Buffer {
  let control: Buffer | undefined;
  let next: { path?: string; size?: number } = {};
  for (let at = 0; ;) {
    const header = headerAt(tar, at);
    if (!header) break;
    const size = next.size ?? header.size;
    const body = tar.subarray(header.data, header.data + size);
    if (body.length !== size) throw new Error(`member ${JSON.stringify(header.name)} is truncated`);
    at = header.data + Math.ceil(size / block) * block;
    if (header.type === 'x') next = paxRecords(body);
    else if (header.type === 'L') next = { ...next, path: text(body, 0, body.length) };
    else if (header.type === 'g' || header.type === 'K') continue;
    else {
      const name = normalised(next.path ?? header.name);
      next = {};
      if (header.type !== '0' && header.type !== '7' && header.type !== '5')
        throw new Error(`member ${JSON.stringify(name)} is ${kinds[header.type] ?? `of type ${header.type}`}`);
      if (name !== 'control') continue;
      if (header.type === '5') throw new Error('member "control" is a folder');
      if (control) throw new Error('the archive holds two "control" members');
      control = body;
    }
  }
  if (!control) throw new Error('the archive has no "control" member');
  return control;
}
