/**
 * The few pieces of OpenPGP (RFC 4880) the in-process signer needs: packets
 * read and written, multiprecision integers, ASCII armor.
 */

export interface Packet {
  tag: number;
  body: Buffer;
}

/** Every packet of a binary OpenPGP message (old and new header formats). */
export function readPackets(data: Buffer): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const ctb = data[at++]!;
    if ((ctb & 0x80) === 0) throw new Error(`not an OpenPGP packet at byte ${at - 1}`);
    let tag: number;
    let length: number;
    if (ctb & 0x40) {
      tag = ctb & 0x3f;
      const first = data[at++]!;
      if (first < 192) length = first;
      else if (first < 224) length = ((first - 192) << 8) + data[at++]! + 192;
      else if (first === 255) {
        length = data.readUInt32BE(at);
        at += 4;
      } else throw new Error('partial-length OpenPGP packets are not supported');
    } else {
      tag = (ctb >> 2) & 0x0f;
      const type = ctb & 0x03;
      if (type === 3) throw new Error('indeterminate-length OpenPGP packets are not supported');
      const size = 1 << type;
      length = data.readUIntBE(at, size);
      at += size;
    }
    if (at + length > data.length) throw new Error('truncated OpenPGP packet');
    packets.push({ tag, body: data.subarray(at, at + length) });
    at += length;
  }
  return packets;
}

/** A new-format packet header and body. */
export function writePacket(tag: number, body: Buffer): Buffer {
  const n = body.length;
  let header: Buffer;
  if (n < 192) header = Buffer.from([0xc0 | tag, n]);
  else if (n < 8384) header = Buffer.from([0xc0 | tag, ((n - 192) >> 8) + 192, (n - 192) & 0xff]);
  else {
    header = Buffer.alloc(6);
    header[0] = 0xc0 | tag;
    header[1] = 255;
    header.writeUInt32BE(n, 2);
  }
  return Buffer.concat([header, body]);
}

/** Reads an MPI at `at`: its magnitude (big-endian, no leading zeros) and where the next field starts. */
export function readMpi(data: Buffer, at: number): { value: Buffer; next: number } {
  const bits = data.readUInt16BE(at);
  const bytes = (bits + 7) >> 3;
  if (at + 2 + bytes > data.length) throw new Error('truncated OpenPGP MPI');
  return { value: data.subarray(at + 2, at + 2 + bytes), next: at + 2 + bytes };
}

export function writeMpi(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const v = value.subarray(start);
  const bits = v.length === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(v[0]!));
  const head = Buffer.alloc(2);
  head.writeUInt16BE(bits);
  return Buffer.concat([head, v]);
}

/** A big-endian magnitude padded on the left to `size` bytes. */
export function leftPad(value: Buffer, size: number): Buffer {
  if (value.length >= size) return value.subarray(value.length - size);
  return Buffer.concat([Buffer.alloc(size - value.length), value]);
}

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** ASCII armor of a binary message, with its CRC-24 line, as gpg writes it. */
export function armor(kind: 'SIGNATURE', data: Buffer): string {
  const base64 = data.toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  const crc = Buffer.from([(crc24(data) >> 16) & 0xff, (crc24(data) >> 8) & 0xff, crc24(data) & 0xff]);
  return `-----BEGIN PGP ${kind}-----\n\n${lines.join('\n')}\n=${crc.toString('base64')}\n-----END PGP ${kind}-----\n`;
}
