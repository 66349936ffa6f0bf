import { access, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';

describe('useTempDir', () => {
  let seen = '';
  describe('a block with a folder of its own', () => {
    const tmp = useTempDir('aoinb-testkit-tmp-');
    it('is a new folder under tmpdir named from the prefix, there before the first test', async () => {
      seen = tmp.dir;
      expect(path.dirname(tmp.dir)).toBe(tmpdir());
      expect(path.basename(tmp.dir)).toMatch(/^aoinb-testkit-tmp-.{6}$/);
      expect((await stat(tmp.dir)).isDirectory()).toBe(true);
      await writeFile(path.join(tmp.dir, 'left'), 'x');
    });
  });

  it('is gone with what it held once its block is over', async () => {
    expect(seen).not.toBe('');
    await expect(access(seen)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
