import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** A tiny but real .deb made with dpkg-deb (`<name>_<version>_<arch>.deb` in `dir`): its bytes and sha256. */
export async function makeTestDeb(options: {
  dir: string;
  name: string;
  version?: string;
  arch: string;
}): Promise<{ file: string; name: string; bytes: Buffer; sha256: string }> {
  const version = options.version ?? '1.0-0';
  await mkdir(options.dir, { recursive: true });
  const staging = await mkdtemp(path.join(options.dir, '.staging-'));
  try {
    await mkdir(path.join(staging, 'DEBIAN'));
    const control = [
      `Package: ${options.name}`,
      `Version: ${version}`,
      `Architecture: ${options.arch}`,
      'Maintainer: aoinb tests <aoinb@localhost>',
      `Description: ${options.name} for aoinb tests`,
      '',
    ];
    await writeFile(path.join(staging, 'DEBIAN/control'), control.join('\n'));
    const name = `${options.name}_${version}_${options.arch}.deb`;
    const file = path.join(options.dir, name);
    await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', staging, file]);
    const bytes = await readFile(file);
    return { file, name, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
