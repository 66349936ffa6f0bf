import { access, mkdir, readdir, rename, rm, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { layoutOf, type BuildrootContext } from '../context.ts';
import { withLock } from '../host/file-lock.ts';
import { runContainer } from '../host/nspawn.ts';
import { download, type DownloadProgress } from './baseos-download.ts';
import type { WorkLayout } from '../work-layout.ts';
import { discardDepLayers } from './dep-layers.ts';
import { discardDir } from './discard.ts';

export const baseosLockName = 'baseos';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

export async function assertBaseosLoaded(layout: WorkLayout): Promise<void> {
  if (!(await exists(path.join(layout.baseos, 'usr')))) {
    throw new AoinbError('BASEOS_MISSING', `no base OS in ${layout.baseos}: run "aoinb load-baseos" first`);
  }
}

/** A staging folder named after its owner, so a dead owner's leftovers can be swept. */
function stagingDir(layout: WorkLayout): string {
  return path.join(layout.root, `baseos.new-${process.pid}`);
}

/** Instances are layers over one exact base OS; a new base makes them stale. */
async function swapInBaseos(layout: WorkLayout, staged: string): Promise<void> {
  if (await exists(layout.baseos)) await discardDir(layout, layout.baseos);
  await rename(staged, layout.baseos);
  for (const branch of await readdir(layout.instancesDir).catch(() => [] as string[])) {
    await discardDir(layout, path.join(layout.instancesDir, branch));
  }
  // Dependency layers sit on an instance and the base OS too; no build holds one now.
  await discardDepLayers(layout, () => true);
}

async function findLocalTarball(layout: WorkLayout, arch: string): Promise<string | undefined> {
  for (const candidate of layout.baseosTarballs(arch)) if (await exists(candidate)) return candidate;
  return undefined;
}

export interface LoadBaseosOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  onLine?: (line: string) => void;
}

/**
 * Installs the base OS from `$work_dir/buildkit_<arch>.tar.{xz,gz,zst}`, downloading
 * it from `baseos.url` first when absent. Extraction goes to a staging folder that
 * is renamed into place only when complete: an interrupted load changes nothing.
 */
export async function loadBaseos(
  ctx: BuildrootContext,
  options: LoadBaseosOptions = {},
): Promise<{ tarball: string; downloaded: boolean }> {
  const layout = layoutOf(ctx);
  await mkdir(layout.root, { recursive: true });
  let tarball = await findLocalTarball(layout, ctx.config.arch);
  const downloaded = !tarball;
  if (!tarball) {
    const ext = /\.tar\.(gz|zst)$/.exec(ctx.config.baseos.url)?.[0] ?? '.tar.xz';
    tarball = path.join(layout.root, `buildkit_${ctx.config.arch}${ext}`);
    options.onLine?.(`downloading base OS from ${ctx.config.baseos.url}`);
    await download(ctx.config.baseos.url, tarball, { signal: options.signal, onProgress: options.onProgress }).catch(
      (error: Error) => {
        throw new AoinbError(
          'BASEOS_LOAD_FAILED',
          `${error.message} (or place a tarball at ${layout.baseosTarballs(ctx.config.arch)[0]})`,
        );
      },
    );
  }
  const staged = stagingDir(layout);
  await rm(staged, { recursive: true, force: true });
  await mkdir(staged);
  try {
    options.onLine?.(`extracting ${tarball}`);
    const result = await execa(
      'tar',
      ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '-xpf', tarball, '-C', staged],
      {
        reject: false,
        cancelSignal: options.signal,
      },
    );
    if (result.exitCode !== 0)
      throw new AoinbError(
        'BASEOS_LOAD_FAILED',
        `cannot extract ${tarball}: ${result.stderr.trim().split('\n').slice(-3).join('; ') || 'interrupted'}`,
      );
    if (!(await exists(path.join(staged, 'usr'))))
      throw new AoinbError('BASEOS_LOAD_FAILED', `${tarball} holds no root filesystem (no /usr at its top)`);
    await withLock(layout.lock(baseosLockName), 'exclusive', () => swapInBaseos(layout, staged), options.signal);
    return { tarball, downloaded };
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/**
 * Refreshes the base OS (apt update, full-upgrade, clean) with the configured
 * sources list, in a copy that replaces the base only if every step succeeded.
 */
export async function updateBaseos(
  ctx: BuildrootContext,
  options: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<void> {
  const layout = layoutOf(ctx);
  await assertBaseosLoaded(layout);
  await withLock(
    layout.lock(baseosLockName),
    'exclusive',
    async () => {
      const staged = stagingDir(layout);
      await rm(staged, { recursive: true, force: true });
      try {
        // cp -a keeps owners, modes, device nodes and hard links, which the base OS needs.
        await execa('cp', ['-a', '--reflink=auto', layout.baseos, staged], { cancelSignal: options.signal });
        if (await exists(ctx.config.baseos.sourcesList)) {
          await copyFile(ctx.config.baseos.sourcesList, path.join(staged, 'etc/apt/sources.list'));
          options.onLine?.(`using ${ctx.config.baseos.sourcesList} as the base OS sources list`);
        } else {
          options.onLine?.(`${ctx.config.baseos.sourcesList} does not exist; keeping the base OS's own sources list`);
        }
        const exit = await runContainer({
          root: staged,
          machine: `aoinb-baseos-${process.pid}`,
          command: [
            '/bin/sh',
            '-c',
            'apt-get update --error-on=any && apt-get -y -o Dpkg::Options::=--force-confold full-upgrade && ' +
              'apt-get clean',
          ],
          env: { DEBIAN_FRONTEND: 'noninteractive' },
          network: 'host', // apt, from the branch's sources; no bundle code runs here
          extraArgs: ctx.config.build.nspawnArgs,
          onLine: options.onLine,
          signal: options.signal,
        });
        if (exit.cancelled)
          throw new AoinbError('BASEOS_LOAD_FAILED', 'update-baseos was interrupted; the base OS is unchanged');
        if (exit.exitCode !== 0)
          throw new AoinbError(
            'BASEOS_LOAD_FAILED',
            `apt in the base OS exited ${exit.exitCode}; the base OS is unchanged`,
          );
        await swapInBaseos(layout, staged);
      } finally {
        await rm(staged, { recursive: true, force: true });
      }
    },
    options.signal,
  );
}
