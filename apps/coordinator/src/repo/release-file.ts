import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RepoIndex } from './repo-index.ts';
import { writeAtomic } from './repo-index.ts';
import { publicKeyName, type RepoSigner } from './repo-signer.ts';

export function releaseText(
  suite: string,
  archs: string[],
  indexes: Array<{ name: string; sha256: string; size: number }>,
): string {
  const lines = [
    'Origin: aoinb',
    `Label: aoinb ${suite}`,
    `Suite: ${suite}`,
    `Codename: ${suite}`,
    `Date: ${new Date().toUTCString()}`,
    `Architectures: ${archs.length > 0 ? archs.join(' ') : 'all'}`,
    `Description: packages built by the aoinb farm for ${suite}`,
    // Every earlier state of an index file is served by its hash (a prefix of the file): no sync window.
    'Acquire-By-Hash: yes',
    'SHA256:',
    ...indexes.map((i) => ` ${i.sha256} ${i.size} ${i.name}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes Release, Release.gpg and InRelease of the index as it is (InRelease last). */
export async function writeRelease(dir: string, suite: string, index: RepoIndex, signer: RepoSigner): Promise<void> {
  const release = releaseText(suite, index.architectures, index.indexFiles());
  const signed = await signer.sign(release);
  // InRelease last: apt reads it first, and it names the index files already in place.
  await writeAtomic(path.join(dir, 'Release'), release);
  await writeAtomic(path.join(dir, 'Release.gpg'), signed.releaseGpg);
  await writeAtomic(path.join(dir, 'InRelease'), signed.inRelease);
}

/** The farm's public key beside the repository (rewritten only when it changed). */
export async function writePublicKey(dir: string, signer: RepoSigner): Promise<void> {
  const file = path.join(dir, publicKeyName);
  if ((await readFile(file, 'utf8').catch(() => '')) !== signer.publicKey) await writeAtomic(file, signer.publicKey);
}
