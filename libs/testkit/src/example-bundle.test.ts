import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { copyBundleWithPort, exampleBundleDir, prepareExampleSource, specSha256 } from './example-bundle.ts';

const tmp = useTempDir('aoinb-example-');

describe('example bundle helpers', () => {
  it('serves the example tarball with the sha256 of the spec', async () => {
    const source = await prepareExampleSource();
    try {
      expect(source.url).toBe(`http://127.0.0.1:${source.port}/hello-aoinb-1.0.tar.gz`);
      const body = Buffer.from(await (await fetch(source.url)).arrayBuffer());
      expect(createHash('sha256').update(body).digest('hex')).toBe(await specSha256(exampleBundleDir));
    } finally {
      await source.close();
    }
  });

  it('copies a bundle with its source URL moved to another port', async () => {
    const dest = await copyBundleWithPort({ destDir: path.join(tmp.dir, 'bundle'), port: 40123 });
    const spec = await readFile(path.join(dest, 'spec'), 'utf8');
    expect(spec).toContain('SRCS="tbl::http://127.0.0.1:40123/hello-aoinb-$VER.tar.gz"');
    expect(spec).not.toContain(':8469');
    expect(await readFile(path.join(dest, 'autobuild', 'build'), 'utf8')).toContain(
      'make install PREFIX="$PKGDIR"/usr',
    );
    expect(await readFile(path.join(exampleBundleDir, 'spec'), 'utf8')).toContain('127.0.0.1:8469');
  });
});
