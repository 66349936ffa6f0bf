import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';

/**
 * The coordinator's own copy of the farm identity, next to its storage (which
 * holds the archived logs, artifacts and repositories of that farm), with the
 * highest task and group ids it has seen handed out: on a Redis that lost its
 * data the counters would start again below them.
 */
export interface IdentityFileRecord {
  id: string;
  createdAt: string;
  highestTaskId: number;
  highestGroupId: number;
  /** Earlier identities of this storage (operator adoptions), newest last. */
  history?: string[];
}

export function identityFilePath(storageDir: string): string {
  return path.join(storageDir, 'farm-identity.json');
}

export async function readIdentityFile(file: string): Promise<IdentityFileRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AoinbError('CONFIG_INVALID', `farm identity file ${file} cannot be read: ${(error as Error).message}`);
  }
  try {
    const record = JSON.parse(text) as Partial<IdentityFileRecord>;
    if (typeof record.id !== 'string' || !record.id) throw new Error('no "id"');
    return {
      id: record.id,
      createdAt: String(record.createdAt ?? ''),
      highestTaskId: Number(record.highestTaskId) || 0,
      highestGroupId: Number(record.highestGroupId) || 0,
      ...(Array.isArray(record.history) ? { history: record.history.map(String) } : {}),
    };
  } catch (error) {
    throw new AoinbError('CONFIG_INVALID', `farm identity file ${file} does not parse: ${(error as Error).message}`);
  }
}

/** Written beside and renamed into place: a crash or a full disk never leaves half a record. */
export async function writeIdentityFile(file: string, record: IdentityFileRecord): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}
