/**
 * SHA-256 whose running state can be saved and restored (node:crypto's cannot):
 * the index files only grow between compactions, so a restarted coordinator
 * carries on their digests from the saved state instead of reading 80 MB again.
 */
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const initial = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const w = new Uint32Array(64);

function compress(h: Uint32Array, data: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let [a, b, c, d, e, f, g, k] = [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

export class ResumableSha256 {
  private readonly h = Uint32Array.from(initial);
  private pending = Buffer.alloc(0);
  /** Bytes hashed so far. */
  length = 0;

  update(data: Uint8Array): this {
    this.length += data.length;
    let input: Uint8Array = data;
    if (this.pending.length > 0) input = Buffer.concat([this.pending, data]);
    const full = input.length - (input.length % 64);
    for (let at = 0; at < full; at += 64) compress(this.h, input, at);
    this.pending = Buffer.from(input.subarray(full));
    return this;
  }

  /** The digest of what was hashed so far (hex); the running state goes on. */
  digest(): string {
    const h = Uint32Array.from(this.h);
    const tailLength = this.pending.length + 9 <= 64 ? 64 : 128;
    const tail = Buffer.alloc(tailLength);
    this.pending.copy(tail);
    tail[this.pending.length] = 0x80;
    const bits = this.length * 8;
    tail.writeUInt32BE(Math.floor(bits / 2 ** 32), tailLength - 8);
    tail.writeUInt32BE(bits >>> 0, tailLength - 4);
    for (let at = 0; at < tailLength; at += 64) compress(h, tail, at);
    return Buffer.from(h.buffer, h.byteOffset, 32).swap32().toString('hex');
  }

  /** The running state as text: `length:h0..h7:pending` (what restore() takes). */
  save(): string {
    const words = Buffer.from(Uint32Array.from(this.h).buffer).swap32().toString('hex');
    return `${this.length}:${words}:${this.pending.toString('base64')}`;
  }

  static restore(saved: string): ResumableSha256 {
    const [length, words, pending] = saved.split(':');
    const bytes = Buffer.from(words ?? '', 'hex');
    if (!/^\d+$/.test(length ?? '') || bytes.length !== 32) throw new Error(`not a saved SHA-256 state: ${saved}`);
    const hash = new ResumableSha256();
    for (let i = 0; i < 8; i++) hash.h[i] = bytes.readUInt32BE(i * 4);
    hash.pending = Buffer.from(pending ?? '', 'base64');
    hash.length = Number(length);
    if (hash.pending.length !== hash.length % 64) throw new Error(`not a saved SHA-256 state: ${saved}`);
    return hash;
  }
}
