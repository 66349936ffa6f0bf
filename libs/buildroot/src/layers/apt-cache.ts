import { mkdir, readdir, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, type HeldLock } from '../host/file-lock.ts';
import type { WorkLayout } from '../work-layout.ts';

/** Where apt keeps its archives in every root aoinb runs apt in. */
export const aptArchivesInContainer = '/var/cache/apt/archives';

export interface AptCacheHold {
  /** The bind for the container: read-write for `write`, read-only for `read`. */
  bind: { host: string; container: string; readOnly: boolean };
  release(): Promise<void>;
}

/**
 * The host's shared apt archive cache (`work_dir/apt-archives`), bound as
 * /var/cache/apt/archives into the steps that run apt and no bundle code: the
 * instance refresh and the dependency step. apt's own lock lives in that folder
 * but only guards one root at a time, so every user holds a host flock too:
 * `write` (download, prune) exclusive, `read` (offline install) shared. A build
 * step never sees the cache. apt takes a cached .deb on its name and size alone,
 * so only apt, from the branch's signed lists, writes it under apt's names; builds
 * with extra repositories copy in and out by SHA256 (verified-archives.ts).
 */
export async function holdAptCache(
  layout: WorkLayout,
  mode: 'write' | 'read',
  signal?: AbortSignal,
): Promise<AptCacheHold> {
  await mkdir(path.join(layout.aptCacheDir, 'partial'), { recursive: true, mode: 0o755 });
  const lock: HeldLock = await acquireLock(layout.lock('apt-cache'), mode === 'write' ? 'exclusive' : 'shared', signal);
  return {
    bind: { host: layout.aptCacheDir, container: aptArchivesInContainer, readOnly: mode === 'read' },
    release: () => lock.release(),
  };
}

/** The file name apt gives a downloaded package (`:` of an epoch as `%3a`). */
export function archiveFileName(pkg: { name: string; version: string; arch: string }): string {
  return `${pkg.name}_${pkg.version.replaceAll(':', '%3a')}_${pkg.arch}.deb`;
}

/** The cache's folder of archives kept by digest only (layers/verified-archives.ts); apt never looks there. */
export const archivesBySha256 = 'by-sha256';

/**
 * Copies into the cache go through `.aoinb-*.partial` names and are written only under the
 * cache's exclusive lock, which the pruner holds: any such file left now is a killed copy's.
 */
async function removeStalePartials(dir: string): Promise<void> {
  for (const sub of ['', archivesBySha256]) {
    const names = await readdir(path.join(dir, sub)).catch(() => [] as string[]);
    const stale = names.filter((name) => name.startsWith('.aoinb-') && name.endsWith('.partial'));
    await Promise.all(stale.map((name) => unlink(path.join(dir, sub, name)).catch(() => undefined)));
  }
}

/**
 * Marks the given packages used now and deletes the least recently used .debs
 * (`by-sha256/` ones too) until the cache fits in `budgetBytes`. Call it holding the cache for `write`.
 * apt stamps a download with the server's date, so "used" is our own mtime.
 */
export async function pruneAptCache(dir: string, budgetBytes: number, usedNow: string[] = []): Promise<string[]> {
  await removeStalePartials(dir);
  const now = new Date();
  await Promise.all(usedNow.map((name) => utimes(path.join(dir, name), now, now).catch(() => undefined)));
  const names = async (sub: string) =>
    (await readdir(path.join(dir, sub)).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.deb'))
      .map((name) => (sub ? `${sub}/${name}` : name));
  const entries = await Promise.all(
    [...(await names('')), ...(await names(archivesBySha256))].map(async (name) => ({
      name,
      ...(await stat(path.join(dir, name)).catch(() => undefined)),
    })),
  );
  const files = entries.filter((e) => e.size !== undefined).sort((a, b) => a.mtimeMs! - b.mtimeMs!);
  let total = files.reduce((sum, f) => sum + f.size!, 0);
  const removed: string[] = [];
  for (const file of files) {
    if (total <= budgetBytes) break;
    await unlink(path.join(dir, file.name)).catch(() => undefined);
    total -= file.size!;
    removed.push(file.name);
  }
  return removed;
}
