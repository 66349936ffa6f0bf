import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ResumableSha256 } from './resumable-sha256.ts';

describe('ResumableSha256', () => {
  it('matches node:crypto for every length around the block size, in pieces and restored mid-way', () => {
    const data = randomBytes(1000);
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000]) {
      const whole = createHash('sha256').update(data.subarray(0, n)).digest('hex');
      expect(new ResumableSha256().update(data.subarray(0, n)).digest()).toBe(whole);
      const cut = Math.floor(n / 3);
      const first = new ResumableSha256().update(data.subarray(0, cut));
      expect(first.digest()).toBe(createHash('sha256').update(data.subarray(0, cut)).digest('hex'));
      const resumed = ResumableSha256.restore(first.save()).update(data.subarray(cut, n));
      expect(resumed.digest()).toBe(whole);
      expect(resumed.length).toBe(n);
    }
  });

  it('refuses a state that is not one', () => {
    expect(() => ResumableSha256.restore('12:abcd:')).toThrow(/not a saved SHA-256 state/);
    const saved = new ResumableSha256().update(Buffer.from('abc')).save();
    expect(() => ResumableSha256.restore(saved.replace(/^3:/, '4:'))).toThrow(/not a saved SHA-256 state/);
  });
});
