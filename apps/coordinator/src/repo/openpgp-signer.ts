import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { armor, leftPad, readMpi, readPackets, writeMpi, writePacket } from './openpgp-packets.ts';

/**
 * OpenPGP v4 signatures made in-process (node:crypto), so a publish does not
 * start gpg: an Ed25519 (EdDSA, what the farm generates) or RSA key whose
 * secret is not passphrase-protected. RepoSigner checks what this makes with
 * gpg itself at start and falls back to gpg for any other key.
 */
export interface SigningKey {
  fingerprint: Buffer;
  algorithm: number;
  key: KeyObject;
}

const EDDSA = 22;
const RSA = [1, 3];
const SHA512 = 10;
const ed25519Oid = Buffer.from('2b06010401da470f01', 'hex');
const b64url = (b: Buffer): string => b.toString('base64url');

/** The (sub)key with `fingerprint` (hex) from `gpg --export-secret-keys` output; throws why it cannot be used. */
export function signingKeyFrom(exported: Buffer, fingerprint: string): SigningKey {
  let why = `the exported secret keys hold no key ${fingerprint}`;
  for (const p of readPackets(exported)) {
    if (p.tag !== 5 && p.tag !== 7) continue;
    try {
      const parsed = parseSecretKey(p.body);
      if (parsed.fingerprint.toString('hex').toUpperCase() === fingerprint.toUpperCase()) return parsed;
    } catch (error) {
      // Another (sub)key that is not usable (a stub, another algorithm) is no matter; the one asked for is.
      why = (error as Error).message;
    }
  }
  throw new Error(why);
}

function parseSecretKey(body: Buffer): SigningKey {
  if (body[0] !== 4) throw new Error(`OpenPGP key version ${body[0]} (only v4 is signed in-process)`);
  const algorithm = body[5]!;
  let at = 6;
  const pub: Buffer[] = [];
  if (algorithm === EDDSA) {
    const oid = body.subarray(at + 1, at + 1 + body[at]!);
    if (!oid.equals(ed25519Oid)) throw new Error('an EdDSA key on another curve than Ed25519');
    at += 1 + oid.length;
  } else if (!RSA.includes(algorithm)) throw new Error(`public-key algorithm ${algorithm}`);
  for (let i = 0; i < (algorithm === EDDSA ? 1 : 2); i++) {
    const m = readMpi(body, at);
    pub.push(m.value);
    at = m.next;
  }
  const publicEnd = at;
  if (body[at] !== 0) throw new Error('the secret key is protected by a passphrase');
  at += 1;
  const secret: Buffer[] = [];
  while (at < body.length - 2) {
    const m = readMpi(body, at);
    secret.push(m.value);
    at = m.next;
  }
  const head = Buffer.from([0x99, publicEnd >> 8, publicEnd & 0xff]);
  const fingerprint = createHash('sha1').update(head).update(body.subarray(0, publicEnd)).digest();
  return { fingerprint, algorithm, key: keyObject(algorithm, pub, secret) };
}

function keyObject(algorithm: number, pub: Buffer[], secret: Buffer[]): KeyObject {
  if (algorithm === EDDSA) {
    const q = pub[0]!;
    if (q.length !== 33 || q[0] !== 0x40) throw new Error('an Ed25519 public point not in native form');
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(q.subarray(1)), d: b64url(leftPad(secret[0]!, 32)) };
    return createPrivateKey({ key: jwk, format: 'jwk' });
  }
  const big = (b: Buffer): bigint => BigInt(`0x${b.toString('hex') || '0'}`);
  const bytes = (v: bigint): Buffer => {
    const hex = v.toString(16);
    return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  };
  const [d, p, q, u] = secret.map(big) as [bigint, bigint, bigint, bigint];
  // OpenPGP stores u = p^-1 mod q; JWK's qi is (second prime)^-1 mod (first prime): so JWK p = q, q = p.
  const jwk = {
    kty: 'RSA',
    n: b64url(pub[0]!),
    e: b64url(pub[1]!),
    d: b64url(bytes(d)),
    p: b64url(bytes(q)),
    q: b64url(bytes(p)),
    dp: b64url(bytes(d % (q - 1n))),
    dq: b64url(bytes(d % (p - 1n))),
    qi: b64url(bytes(u)),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function subpacket(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([data.length + 1, type]), data]);
}

/** A v4 signature packet over `data`: type 0x00 (binary) or 0x01 (canonical text). */
export function signaturePacket(key: SigningKey, data: Buffer, type: 0 | 1, now = new Date()): Buffer {
  const created = Buffer.alloc(4);
  created.writeUInt32BE(Math.floor(now.getTime() / 1000));
  const hashed = Buffer.concat([
    subpacket(33, Buffer.concat([Buffer.from([4]), key.fingerprint])),
    subpacket(2, created),
  ]);
  const head = Buffer.concat([
    Buffer.from([4, type, key.algorithm, SHA512, hashed.length >> 8, hashed.length & 0xff]),
    hashed,
  ]);
  const trailer = Buffer.from([4, 0xff, 0, 0, 0, 0]);
  trailer.writeUInt32BE(head.length, 2);
  const digest = createHash('sha512').update(data).update(head).update(trailer).digest();
  let mpis: Buffer;
  if (key.algorithm === EDDSA) {
    // OpenPGP's EdDSA signs the digest itself.
    const sig = sign(null, digest, key.key);
    mpis = Buffer.concat([writeMpi(sig.subarray(0, 32)), writeMpi(sig.subarray(32))]);
  } else {
    mpis = writeMpi(sign('sha512', Buffer.concat([data, head, trailer]), key.key));
  }
  const unhashed = subpacket(16, key.fingerprint.subarray(12));
  const body = Buffer.concat([
    head,
    Buffer.from([unhashed.length >> 8, unhashed.length & 0xff]),
    unhashed,
    digest.subarray(0, 2),
    mpis,
  ]);
  return writePacket(2, body);
}

/** `gpg --armor --detach-sign`: a binary signature of the exact bytes. */
export function detachSign(key: SigningKey, data: Buffer | string, now?: Date): string {
  return armor('SIGNATURE', signaturePacket(key, Buffer.from(data), 0, now));
}

/**
 * `gpg --clearsign` (RFC 4880 section 7): the text with dash-escaped lines,
 * signed as canonical text (trailing blanks dropped, CRLF line ends, without
 * the line end before the signature).
 */
export function clearSign(key: SigningKey, text: string, now?: Date): string {
  const lines = text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => l.replace(/[ \t\r]+$/, ''));
  const signed = Buffer.from(lines.join('\r\n'));
  const shown = lines.map((l) => (l.startsWith('-') ? `- ${l}` : l)).join('\n');
  const signature = armor('SIGNATURE', signaturePacket(key, signed, 1, now));
  return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${shown}\n${signature}`;
}

/** The fingerprint (hex) of the key that made a binary signature packet (its issuer-fingerprint subpacket). */
export function issuerOf(signature: Buffer): string | undefined {
  const packet = readPackets(signature).find((p) => p.tag === 2);
  if (!packet || packet.body[0] !== 4) return undefined;
  const length = packet.body.readUInt16BE(4);
  const hashed = packet.body.subarray(6, 6 + length);
  for (let at = 0; at < hashed.length;) {
    let size = hashed[at]!;
    at += 1;
    if (size >= 192 && size < 255) {
      size = ((size - 192) << 8) + hashed[at]! + 192;
      at += 1;
    } else if (size === 255) {
      size = hashed.readUInt32BE(at);
      at += 4;
    }
    if ((hashed[at]! & 0x7f) === 33)
      return hashed
        .subarray(at + 2, at + size)
        .toString('hex')
        .toUpperCase();
    at += size;
  }
  return undefined;
}
