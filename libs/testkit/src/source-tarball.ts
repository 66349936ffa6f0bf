import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';

export interface SourceTarball {
  file: string;
  sha256: string;
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The tar arguments that make the archive depend on nothing but the folder's
 * names, contents and executable bits: sorted entries, mtime 2024-01-01, owner 0,
 * modes normalised to 644/755, ustar headers (no pax times, no xattrs).
 */
function deterministicTarArgs(parent: string, top: string): string[] {
  return [
    '--sort=name',
    '--mtime=@1704067200',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=u=rwX,go=rX',
    '--format=ustar',
    '--no-acls',
    '--no-xattrs',
    '--no-selinux',
    '-C',
    parent,
    '-c',
    '--',
    top,
  ];
}

/**
 * Packs `dir` into `file` as a deterministic `.tar.gz` whose single top folder
 * is the folder's own name (`hello-aoinb-1.0/`), compressed with `gzip -n` so
 * no name or time lands in the header: the same folder gives the same sha256.
 */
export async function makeSourceTarball(options: { dir: string; file: string }): Promise<SourceTarball> {
  const dir = path.resolve(options.dir);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new AoinbError('NOT_FOUND', `cannot pack ${dir}: not a folder`);
  }
  await mkdir(path.dirname(options.file), { recursive: true });
  await execa('tar', deterministicTarArgs(path.dirname(dir), path.basename(dir))).pipe('gzip', ['-n', '-9', '-c'], {
    stdout: { file: options.file },
  });
  return { file: options.file, sha256: await sha256File(options.file) };
}
