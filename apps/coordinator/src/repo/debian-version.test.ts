import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { compareDebianVersions } from './debian-version.ts';

describe('compareDebianVersions', () => {
  it('orders versions as dpkg does', async () => {
    const versions = [
      '1.0',
      '1.0-1',
      '1.0~rc1',
      '1:0.1',
      '1.0a',
      '1.0+b1',
      '1.00',
      '2.0-1~bpo1',
      '2.0-1',
      '0.9',
      '1.0.1',
      '1.0-1.1',
      '1.0-10',
      '1.0-9',
    ];
    const pairs = versions.flatMap((a) => versions.map((b) => [a, b] as const));
    // One shell for every pair: dpkg itself says lt, eq or gt.
    const script =
      'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; ' +
      'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done';
    const dpkg = (
      await execa('sh', ['-c', script], { input: pairs.map(([a, b]) => `${a} ${b}`).join('\n') + '\n' })
    ).stdout
      .split('\n')
      .map(Number);
    expect(pairs.map(([a, b]) => `${a} ${b} ${Math.sign(compareDebianVersions(a, b)) || 0}`)).toEqual(
      pairs.map(([a, b], i) => `${a} ${b} ${dpkg[i]}`),
    );
  });
});
