import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import { repoFilePattern } from '../repo/apt-repo.ts';

const contentTypes: Record<string, string> = {
  Packages: 'text/plain; charset=utf-8',
  Release: 'text/plain; charset=utf-8',
  InRelease: 'text/plain; charset=utf-8',
  'Release.gpg': 'application/pgp-signature',
  'aoinb-archive-key.asc': 'application/pgp-keys',
  'Packages.gz': 'application/gzip',
};

/** Sends one file of a flat apt repository folder (index files and debs only); `what` names the repository in errors. */
export async function sendRepoFile(
  reply: FastifyReply,
  dir: string,
  requested: string,
  what: string,
): Promise<FastifyReply> {
  const name = requested.replace(/^(\.\/)+/, '');
  if (!repoFilePattern.test(name)) throw new AoinbError('NOT_FOUND', `${what} has no file ${JSON.stringify(name)}`);
  const file = path.join(dir, name);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new AoinbError('NOT_FOUND', `${what} has no file ${name}`);
  const type =
    contentTypes[name] ??
    (name.endsWith('.deb') ? 'application/vnd.debian.binary-package' : 'application/octet-stream');
  return reply
    .header('content-type', type)
    .header('content-length', info.size)
    .header('last-modified', info.mtime.toUTCString())
    .send(createReadStream(file));
}
