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

/** Finds `by-hash/SHA256/<sha256>` of the repository: a prefix of one of its index files. */
export type ByHash = (sha256: string) => Promise<{ file: string; size: number } | undefined>;

const byHashPath = /^by-hash\/SHA256\/([0-9a-f]{64})$/;

/**
 * Sends one file of a flat apt repository folder (index files and debs only); `what` names the repository in errors.
 */
export async function sendRepoFile(
  reply: FastifyReply,
  dir: string,
  requested: string,
  what: string,
  byHash?: ByHash,
): Promise<FastifyReply> {
  const name = requested.replace(/^(\.\/)+/, '');
  const hashed = byHashPath.exec(name)?.[1];
  if (hashed && byHash) {
    const found = await byHash(hashed);
    if (!found) throw new AoinbError('NOT_FOUND', `${what} has no index file of sha256 ${hashed}`);
    // Immutable: this name is this content forever.
    reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', found.size)
      .header('cache-control', 'public, max-age=31536000, immutable');
    return reply.send(found.size === 0 ? '' : createReadStream(found.file, { start: 0, end: found.size - 1 }));
  }
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
