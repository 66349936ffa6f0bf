import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { mountsUnder, removeTree } from './remove-tree.ts';

export interface OverlayFixture {
  /** The temp folder holding upper/, work/ and merged/. */
  dir: string;
  upper: string;
  merged: string;
  /** Unmounts and removes the temp folder; safe to call twice. */
  unmount(): Promise<void>;
}

/**
 * Mounts a throw-away OverlayFS over `lower` (read-only lower, upper and work
 * in a fresh temp folder). Test support only: the farm's own layering lives in
 * @aoinb/buildroot.
 */
export async function mountOverlayFixture(options: { lower: string; parentDir?: string }): Promise<OverlayFixture> {
  if (/[,:\\]/.test(options.lower))
    throw new AoinbError('MOUNT_FAILED', `cannot use ${options.lower} as an overlay lower dir: it holds , : or \\`);
  const dir = await mkdtemp(path.join(options.parentDir ?? tmpdir(), 'aoinb-overlay-'));
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((name) => path.join(dir, name)) as [
    string,
    string,
    string,
  ];
  await Promise.all([upper, work, merged].map((d) => mkdir(d)));
  const mounted = await execa(
    'mount',
    ['-t', 'overlay', 'overlay', '-o', `lowerdir=${options.lower},upperdir=${upper},workdir=${work}`, merged],
    { reject: false, all: true },
  );
  if (mounted.failed) {
    await removeTree(dir);
    throw new AoinbError(
      'MOUNT_FAILED',
      `mounting an overlay on ${merged} failed: ${mounted.all || mounted.shortMessage}`,
    );
  }
  let done: Promise<void> | undefined;
  const unmount = (): Promise<void> =>
    (done ??= (async () => {
      const result = await execa('umount', [merged], { reject: false, all: true });
      if (result.failed) await execa('umount', ['--lazy', merged], { reject: false });
      await removeTree(dir);
      if ((await mountsUnder(dir)).length)
        throw new AoinbError('MOUNT_FAILED', `${merged} is still mounted after umount`);
    })());
  return { dir, upper, merged, unmount };
}

/** A machine name nspawn accepts and no other run uses. */
export function uniqueMachineName(prefix = 'aoinb-tk'): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Runs `command` in `root` with systemd-nspawn as the farm does on hosts where
 * systemd is not PID 1 (`--register=no --keep-unit --as-pid2`). Never rejects:
 * look at `exitCode` and `all` (stdout and stderr interleaved).
 */
export interface NspawnRun {
  exitCode: number | undefined;
  /** stdout and stderr interleaved, as they came. */
  all: string;
}

export async function runInNspawn(options: {
  root: string;
  command: string[];
  chdir?: string;
  env?: Record<string, string>;
}): Promise<NspawnRun> {
  const args = ['--quiet', '--register=no', '--keep-unit', '--as-pid2', '-M', uniqueMachineName(), '-D', options.root];
  if (options.chdir) args.push(`--chdir=${options.chdir}`);
  for (const [key, value] of Object.entries(options.env ?? {})) args.push(`--setenv=${key}=${value}`);
  const result = await execa('systemd-nspawn', [...args, ...options.command], {
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode, all: String(result.all ?? '') };
}
