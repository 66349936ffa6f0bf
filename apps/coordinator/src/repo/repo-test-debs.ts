import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** Builds a real .deb with dpkg-deb (test support); `extra` lands in the payload so two builds can differ. */
export async function makeTestDeb(
  dir: string,
  name: string,
  version: string,
  arch: string,
  extra = '',
): Promise<string> {
  const root = path.join(dir, `${name}-${version}-${arch}-root`.replace(/:/g, '_'));
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  await mkdir(path.join(root, 'usr/share/doc', name), { recursive: true });
  await writeFile(path.join(root, 'usr/share/doc', name, 'note'), `built ${extra}\n`);
  await writeFile(
    path.join(root, 'DEBIAN/control'),
    `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: t <t@t>\nInstalled-Size: 1\n` +
      'Section: misc\nDescription: test\n multi-line description\n',
  );
  await mkdir(path.join(dir, 'out'), { recursive: true });
  const file = path.join(dir, 'out', `${name}_${version.replace(/^\d+:/, '')}_${arch === 'all' ? 'noarch' : arch}.deb`);
  await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, file]);
  return file;
}
