import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import { controlFromTar } from './control-tar.ts';
import { controlMembers, inflate } from './deb-inflate.ts';

/**
 * A .deb's control file read in-process: the ar archive (deb(5)), then the
 * control tar, nothing else of the file (no process per deb; what
 * `dpkg-deb --field FILE` prints, byte for byte). Strict as dpkg-deb is:
 * `debian-binary` first (format 2.x), then optional `_` members, then
 * `control.tar[.gz|.xz|.zst]`; every size is checked against the file and
 * bounded, and each error names the file and what is wrong.
 */

/** Bounds on a control member, compressed and uncompressed (its maintainer scripts and md5sums included). */
export const maxControlBytes = 64 * 1024 * 1024;

const arMagic = '!<arch>\n';
const arHeader = 60;

interface ArMember {
  name: string;
  /** Where its data starts in the file. */
  offset: number;
  size: number;
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/** The ar member header at `offset` (of a file of `fileSize` bytes), sizes checked; undefined at the end. */
async function memberAt(fh: FileHandle, offset: number, fileSize: number): Promise<ArMember | undefined> {
  if (offset >= fileSize) return undefined;
  const header = await readAt(fh, offset, arHeader);
  if (header.length < arHeader) throw new Error(`truncated: an ar member header at byte ${offset} is cut short`);
  if (header.subarray(58, 60).toString('latin1') !== '`\n')
    throw new Error(`the ar member header at byte ${offset} is corrupt (no end marker)`);
  const name = header.subarray(0, 16).toString('latin1').trimEnd().replace(/\/$/, '');
  const sizeField = header.subarray(48, 58).toString('latin1').trimEnd();
  if (!/^\d+$/.test(sizeField)) throw new Error(`ar member ${JSON.stringify(name)} has an invalid size field`);
  const size = Number(sizeField);
  const remaining = fileSize - offset - arHeader;
  if (size > remaining)
    throw new Error(`truncated: ar member ${JSON.stringify(name)} declares ${size} bytes, ${remaining} remain`);
  return { name, offset: offset + arHeader, size };
}

/** Walks the ar archive to the control member, checking the members before it. */
async function findControl(fh: FileHandle): Promise<ArMember> {
  const fileSize = (await fh.stat()).size;
  if ((await readAt(fh, 0, arMagic.length)).toString('latin1') !== arMagic) throw new Error('no ar archive signature');
  const first = await memberAt(fh, arMagic.length, fileSize);
  if (first?.name !== 'debian-binary')
    throw new Error(`the first member is ${first ? JSON.stringify(first.name) : 'missing'}, not "debian-binary"`);
  const version = (await readAt(fh, first.offset, Math.min(first.size, 64))).toString('latin1');
  if (first.size > 64 || !/^2\.\d+\n/.test(version))
    throw new Error(`unsupported .deb format version ${JSON.stringify(version.slice(0, 16))} (expected 2.x)`);
  for (let at = first.offset + first.size + (first.size % 2); ;) {
    const member = await memberAt(fh, at, fileSize);
    if (!member) throw new Error('the archive has no control member');
    if (Object.hasOwn(controlMembers, member.name)) return member;
    if (!member.name.startsWith('_'))
      throw new Error(`member ${JSON.stringify(member.name)} comes before the control member`);
    at = member.offset + member.size + (member.size % 2);
  }
}

/** A file that is not a readable .deb; `reason` says what is wrong, naming no host path. */
export class InvalidDebError extends AoinbError {
  constructor(
    label: string,
    readonly reason: string,
  ) {
    super('ARTIFACT_INVALID', `${label} is not a valid .deb: ${reason}`);
  }
}

/** The control file's bytes of a .deb; InvalidDebError (ARTIFACT_INVALID) naming `label` (the file name). */
export async function readDebControl(file: string, label = path.basename(file)): Promise<Buffer> {
  let step = '';
  try {
    const fh = await open(file, 'r');
    try {
      const member = await findControl(fh);
      step = `${member.name}: `;
      if (member.size > maxControlBytes) throw new Error(`is ${member.size} bytes, above the ${maxControlBytes} limit`);
      const data = await readAt(fh, member.offset, member.size);
      const tar = await inflate(data, controlMembers[member.name] ?? 'none', maxControlBytes);
      return controlFromTar(tar);
    } finally {
      await fh.close();
    }
  } catch (error) {
    // An errno (ENOENT, EACCES, EIO) alone: Node's message holds the host path.
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code && !code.startsWith('ERR_') ? `cannot be read (${code})` : '';
    throw new InvalidDebError(label, `${step}${reason || (error as Error).message}`);
  }
}
