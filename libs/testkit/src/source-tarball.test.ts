import { cp, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { exampleBundleDir, exampleSourceDir, specSha256 } from './example-bundle.ts';
import { makeSourceTarball } from './source-tarball.ts';

const tmp = useTempDir('aoinb-tarball-');

describe('makeSourceTarball', () => {
  it('gives the same sha256 twice, whatever the mtimes, with one top folder owned by 0', async () => {
    const copy = path.join(tmp.dir, 'copy', 'hello-aoinb-1.0');
    await cp(exampleSourceDir, copy, { recursive: true });
    const first = await makeSourceTarball({ dir: copy, file: path.join(tmp.dir, 'one.tar.gz') });
    await utimes(path.join(copy, 'Makefile'), new Date(), new Date(2001, 1, 1));
    const second = await makeSourceTarball({ dir: copy, file: path.join(tmp.dir, 'two.tar.gz') });
    expect(second.sha256).toBe(first.sha256);
    const { stdout } = await execa('tar', ['-tvzf', first.file, '--numeric-owner']);
    const lines = stdout.split('\n');
    expect(lines.every((l) => / 0\/0 /.test(l))).toBe(true);
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual([
      'hello-aoinb-1.0/',
      'hello-aoinb-1.0/Makefile',
      'hello-aoinb-1.0/README',
      'hello-aoinb-1.0/hello-aoinb.1',
      'hello-aoinb-1.0/hello-aoinb.c',
    ]);
    await writeFile(path.join(copy, 'README'), 'changed\n');
    expect((await makeSourceTarball({ dir: copy, file: path.join(tmp.dir, 'three.tar.gz') })).sha256).not.toBe(
      first.sha256,
    );
  });

  it("matches the example spec's CHKSUMS (update the spec when the example source changes)", async () => {
    const tarball = await makeSourceTarball({
      dir: exampleSourceDir,
      file: path.join(tmp.dir, 'hello-aoinb-1.0.tar.gz'),
    });
    expect(tarball.sha256).toBe(await specSha256(exampleBundleDir));
  });

  it('refuses a missing folder', async () => {
    await expect(
      makeSourceTarball({ dir: path.join(tmp.dir, 'nope'), file: path.join(tmp.dir, 'x.tar.gz') }),
    ).rejects.toThrow(/not a folder/);
  });
});
