/** Hand-made tar archives for tests: attacks GNU tar will not create. */
export interface Member {
  name: string;
  type?: string;
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
  /** Mark the header as star format (`tar\0` at byte 508). */
  star?: boolean;
}

export function header(m: Member, size: number): Buffer {
  const h = Buffer.alloc(512);
  const octal = (n: number, width: number): string => `${n.toString(8).padStart(width - 1, '0')}\0`;
  h.write(m.name, 0, 100, 'utf8');
  h.write(octal(m.mode ?? 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write(' '.repeat(8), 148);
  h.write(m.type ?? '0', 156);
  h.write(m.linkname ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  if (m.star) h.write('tar\0', 508, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

export function craftTar(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = typeof m.data === 'string' ? Buffer.from(m.data) : (m.data ?? Buffer.alloc(0));
    parts.push(header(m, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function pax(records: Record<string, string>): string {
  return Object.entries(records)
    .map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (`${len}${body}`.length !== len) len++;
      return `${len}${body}`;
    })
    .join('');
}
