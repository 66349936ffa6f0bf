import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { checkPathComponent } from '@aoinb/bundle';
import type { ExtraAptSource } from '../build-types.ts';

const toolboxScript = fileURLToPath(new URL('../toolbox/build.sh', import.meta.url));

/**
 * Puts the bundle and the toolbox under /buildroot, and any extra apt
 * repositories (a group's fresh debs) into the container's apt configuration.
 * Symlinks in the bundle are copied as links: they resolve inside the container.
 */
export async function stageBundle(
  merged: string,
  bundleDir: string,
  extraSources: ExtraAptSource[] = [],
): Promise<void> {
  const buildroot = path.join(merged, 'buildroot');
  await mkdir(path.join(buildroot, 'toolbox'), { recursive: true });
  const copy = await execa('cp', ['-a', '--no-preserve=ownership', `${bundleDir}/.`, path.join(buildroot, 'bundle')], {
    reject: false,
  });
  if (copy.exitCode !== 0) throw new Error(`cannot copy bundle ${bundleDir}: ${copy.stderr.trim()}`);
  await copyFile(toolboxScript, path.join(buildroot, 'toolbox/build.sh'));
  await chmod(path.join(buildroot, 'toolbox/build.sh'), 0o755);
  for (const source of extraSources) {
    const name = checkPathComponent(source.name.replace(/[^A-Za-z0-9_-]/g, '-'), 'extra apt source name');
    await mkdir(path.join(merged, 'etc/apt/sources.list.d'), { recursive: true });
    if (source.key) {
      await mkdir(path.join(merged, 'etc/apt/keyrings'), { recursive: true });
      await writeFile(path.join(merged, 'etc/apt/keyrings', `${name}.asc`), source.key);
    }
    await writeFile(path.join(merged, 'etc/apt/sources.list.d', `${name}.list`), `${source.line}\n`);
    if (source.pinPriority !== undefined) {
      const host = /https?:\/\/([^/:\s]+)/.exec(source.line)?.[1];
      const pin = source.pin?.replace(/[\r\n]/g, ' ') ?? (host ? `origin "${host}"` : undefined);
      if (pin) {
        await mkdir(path.join(merged, 'etc/apt/preferences.d'), { recursive: true });
        await writeFile(
          path.join(merged, 'etc/apt/preferences.d', name),
          `Package: *\nPin: ${pin}\nPin-Priority: ${source.pinPriority}\n`,
        );
      }
    }
  }
}
