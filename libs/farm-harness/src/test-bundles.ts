import { gzipSync } from 'node:zlib';
import { packBundle } from '@aoinb/bundle';
import { fakeBundleFiles, writeFakeBundle, type FakeBundle } from '@aoinb/testkit';

export type TestBundle = FakeBundle;

/** A minimal bundle (DUMMYSRC) packed as a gzip tar, as `aoinb submit` would upload it. */
export async function packTestBundle(root: string, bundle: TestBundle): Promise<Buffer> {
  return packBundle(await writeFakeBundle(root, bundle));
}

export interface TarMember {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(m: TarMember, size: number): Buffer {
  const block = Buffer.alloc(512);
  const typeflag = { file: '0', hardlink: '1', symlink: '2', chardev: '3', dir: '5' }[m.type ?? 'file'];
  block.write(m.name, 0, 100, 'utf8');
  block.write(octal(m.mode ?? (m.type === 'dir' ? 0o755 : 0o644), 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(1_700_000_000, 12), 136);
  block.write('        ', 148);
  block.write(typeflag, 156);
  block.write(m.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\0', 257);
  block.write('00', 263);
  block.write(octal(1, 8), 329);
  block.write(octal(3, 8), 337);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

/** A hand-made gzip tar, so tests can send what no honest tar tool would write (traversal, links out, devices). */
export function craftTar(members: TarMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = m.type === undefined || m.type === 'file' ? Buffer.from(m.content ?? '') : Buffer.alloc(0);
    parts.push(header(m, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** A fake bundle's files (`fakeBundleFiles`) as tar members, for crafted archives and ones made in-process. */
export function bundleMembers(bundle: TestBundle): TarMember[] {
  const files = Object.entries(fakeBundleFiles(bundle)).map(([name, content]) => ({ name, content }));
  return [{ name: 'autobuild/', type: 'dir' }, ...files];
}
