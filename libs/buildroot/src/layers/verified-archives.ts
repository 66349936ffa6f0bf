import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { checkPathComponent } from '@aoinb/bundle';
import { sha256File } from '../pipeline/collect-debs.ts';
import { archivesBySha256 } from './apt-cache.ts';

/**
 * Moving archives between the host's shared apt cache and a root that has extra
 * apt repositories (a group's fresh debs), by SHA256 rather than by file name.
 *
 * Why not bind the cache there as for other builds: apt takes a file already in
 * its archive folder on its name and size alone (apt 3.0: a same-size file with
 * other bytes goes straight to dpkg). A group repository may publish a package
 * with the very file name of a branch package (a rebuild of the same version),
 * and its bytes come from a bundle's build, so it must never be able to stand in
 * for the branch's file in any other build. So: apt lists what it needs with the
 * SHA256 of the lists it verified (`plan`); only cached files with that digest
 * are copied into the root's own archive folder. What apt downloaded from outside
 * the extra repositories goes back into the cache under apt's name (for every
 * build); what came from an extra repository goes only under its digest
 * (`by-sha256/<hex>.deb`), a name apt never looks at, found again only by this
 * SHA256 check.
 */
export interface PlannedArchive {
  uri: string;
  file: string;
  size: number;
  sha256: string;
}

/** `'URI' FILE SIZE SHA256:HEX`, as `apt-get --print-uris -o Acquire::ForceHash=SHA256` prints it. */
const uriLine = /^'([^'\s]+)' (\S+) (\d+) SHA256:([0-9a-f]{64})$/;

function isPlainDebName(name: string): boolean {
  try {
    return checkPathComponent(name, 'archive') === name && name.endsWith('.deb');
  } catch {
    return false;
  }
}

/** The archives apt planned to fetch; a line that is not one (or names no plain file) is left out. */
export function parsePlannedArchives(text: string): PlannedArchive[] {
  return text
    .split('\n')
    .map((line) => uriLine.exec(line.trim()))
    .filter((m) => m !== null)
    .filter((m) => isPlainDebName(m[2]!))
    .map((m) => ({ uri: m[1]!, file: m[2]!, size: Number(m[3]), sha256: m[4]! }));
}

/** Whether `uri` lies under one of the repository base URLs (normalised, so `..` cannot step out). */
export function isUnderRepository(uri: string, repositories: string[]): boolean {
  let href: string;
  try {
    href = new URL(uri).href;
  } catch {
    return true; // not a URL we can place: treat as the repository's, never shared
  }
  return repositories.some((base) => {
    const root = new URL(base.endsWith('/') ? base : `${base}/`).href;
    return href.startsWith(root);
  });
}

async function matches(file: string, planned: PlannedArchive): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || info.size !== planned.size) return false;
  return (await sha256File(file)) === planned.sha256;
}

/** Where the cache may hold `archive`: under apt's name, and under its digest. */
function cachedNames(archive: PlannedArchive): string[] {
  return [archive.file, `${archivesBySha256}/${archive.sha256}.deb`];
}

/** Copies `from` to `to` through a temporary name beside it, so nobody sees half a file. */
async function copyInto(from: string, to: string): Promise<void> {
  const tmp = path.join(path.dirname(to), `.aoinb-${randomUUID()}.partial`);
  try {
    await copyFile(from, tmp);
    await rename(tmp, to);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/**
 * Copies into `archivesDir` every planned archive the cache holds with the planned
 * SHA256 (checked after the copy, so a file changed meanwhile is not kept). Call it
 * holding the cache for `read`. Returns the cache's names of the files copied.
 */
export async function fillFromAptCache(
  cacheDir: string,
  archivesDir: string,
  planned: PlannedArchive[],
): Promise<string[]> {
  const copied: string[] = [];
  for (const archive of planned) {
    const target = path.join(archivesDir, archive.file);
    for (const name of cachedNames(archive)) {
      if (!(await matches(path.join(cacheDir, name), archive))) continue;
      await copyInto(path.join(cacheDir, name), target);
      if (await matches(target, archive)) {
        copied.push(name);
        break;
      }
      await unlink(target).catch(() => undefined);
    }
  }
  return copied;
}

/**
 * Copies into the cache the archives apt downloaded into `archivesDir`, each only if
 * it has its planned SHA256: under apt's name when its URI is outside the extra
 * repositories, else under its digest. Call it holding the cache for `write`.
 * Returns the cache's names of the files added.
 */
export async function feedAptCache(
  cacheDir: string,
  archivesDir: string,
  planned: PlannedArchive[],
  repositories: string[],
): Promise<string[]> {
  const added: string[] = [];
  await mkdir(path.join(cacheDir, archivesBySha256), { recursive: true });
  for (const archive of planned) {
    const [aptName, digestName] = cachedNames(archive) as [string, string];
    const name = isUnderRepository(archive.uri, repositories) ? digestName : aptName;
    const source = path.join(archivesDir, archive.file);
    if (!(await matches(source, archive))) continue;
    if (await matches(path.join(cacheDir, name), archive)) continue;
    await copyInto(source, path.join(cacheDir, name));
    added.push(name);
  }
  return added;
}
