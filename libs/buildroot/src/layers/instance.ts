import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { layoutOf, type BuildrootContext } from '../context.ts';
import { acquireLock, type HeldLock } from '../host/file-lock.ts';
import { mountOverlay, unmountAllUnder } from '../host/mount-table.ts';
import { runContainer } from '../host/nspawn.ts';
import { currentProcess } from '../host/process-identity.ts';
import { holdAptCache, pruneAptCache } from './apt-cache.ts';
import { discardDepLayers } from './dep-layers.ts';

interface RefreshStamp {
  /** When the last successful refresh started (ms since epoch). */
  startedAt: number;
}

export interface InstanceLease {
  /** Lower layers for a workspace over this instance, top first. */
  lowers: string[];
  /**
   * Changes whenever a refresh changed the instance (new lists, so an upgrade);
   * a refresh that found nothing new keeps it, and so keeps the dependency layers.
   * Empty for an instance last refreshed by an older aoinb (no layers for it then).
   */
  generation: string;
  refreshed: boolean;
  refreshMs: number;
  /** Drops the shared hold; the instance may be refreshed again after that. */
  release(): Promise<void>;
}

export class InstanceRefreshError extends Error {}

async function readStamp(file: string): Promise<RefreshStamp | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RefreshStamp;
  } catch {
    return undefined;
  }
}

/**
 * Whether a refresh is due. With `instance_refresh_minutes = 0` (the seed's
 * behaviour) every build wants one, but a refresh that began after this build was
 * requested already counts, so builds queued together share one refresh.
 */
export function refreshDue(stamp: RefreshStamp | undefined, requestedAt: number, maxAgeMinutes: number): boolean {
  if (!stamp) return true;
  if (maxAgeMinutes === 0) return stamp.startedAt < requestedAt;
  return Date.now() - stamp.startedAt > maxAgeMinutes * 60_000;
}

async function syncSourcesList(target: string, sourceListFile: string, onLine?: (line: string) => void): Promise<void> {
  const wanted = await readFile(sourceListFile, 'utf8');
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === wanted) return;
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, wanted);
  onLine?.(`[aoinb] instance sources list ${current === undefined ? 'set' : 'updated'} from ${sourceListFile}`);
}

/**
 * autobuild4's per-instance config, as ciel writes it: dpkg as package manager
 * and installer, and MTER (the `Maintainer:` of every package; without it
 * autobuild4's QA stops with E311). The value was checked by the config schema.
 */
export function ab4ConfigText(maintainer: string): string {
  return (
    `#!/bin/bash\n# Written by aoinb for this instance from [build] maintainer in config.toml.\nABMPM=dpkg\n` +
    `ABAPMS=\nABINSTALL=dpkg\nMTER="${maintainer}"\n`
  );
}

async function syncAb4Config(target: string, maintainer: string, onLine?: (line: string) => void): Promise<void> {
  const wanted = ab4ConfigText(maintainer);
  if ((await readFile(target, 'utf8').catch(() => undefined)) === wanted) return;
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, wanted);
  onLine?.(`[aoinb] instance autobuild4 config written (MTER="${maintainer}")`);
}

/** Inside the instance: where the refresh leaves the generation it made. */
const generationFile = 'var/lib/aoinb/generation';

/**
 * apt fetches the lists conditionally itself (If-Modified-Since, InRelease by
 * hash) and keeps them in the instance; when they come back unchanged and an
 * upgrade already ran against them, there is nothing to upgrade, and the
 * generation (so every dependency layer of the instance) stays. The .debs stay
 * in the shared archive cache when it is bound, and apt's package cache stays so
 * the next apt run does not rebuild it.
 */
const refreshScript = `set -eu
fingerprint() { find /var/lib/apt/lists -maxdepth 1 -type f ! -name lock -printf '%f %s %T@\n' | sort | sha256sum; }
before=$(fingerprint)
apt-get update -q --error-on=any
if [ "$(fingerprint)" = "$before" ] && [ -s /${generationFile} ]; then
  echo "[aoinb] apt lists unchanged since the last upgrade: nothing to upgrade"
  exit 0
fi
apt-get -y -q -o Dpkg::Options::=--force-confold full-upgrade
[ -n "\${AOINB_SHARED_ARCHIVES:-}" ] || find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -delete
apt-cache gencaches >/dev/null
mkdir -p /var/lib/aoinb && echo "$AOINB_GENERATION" > /${generationFile}
`;

async function readGeneration(upper: string): Promise<string> {
  return (await readFile(path.join(upper, generationFile), 'utf8').catch(() => '')).trim();
}

async function refresh(
  ctx: BuildrootContext,
  branch: string,
  onLine?: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const layout = layoutOf(ctx);
  const dirs = layout.instance(branch);
  await writeFile(path.join(dirs.dir, 'refresh-owner.json'), JSON.stringify(await currentProcess()));
  const budget = ctx.config.build.aptCacheMib * 2 ** 20;
  const archives = budget > 0 ? await holdAptCache(layout, 'write', signal) : undefined;
  try {
    await mountOverlay({ lowers: [layout.baseos], upper: dirs.upper, work: dirs.work, target: dirs.merged });
    onLine?.(`[aoinb] refreshing instance ${branch} (apt update; full-upgrade if the lists changed)`);
    const exit = await runContainer({
      root: dirs.merged,
      machine: `aoinb-inst-${branch.replace(/[^A-Za-z0-9-]/g, '-')}-${process.pid}`.slice(0, 64),
      command: ['/bin/sh', '-c', refreshScript],
      env: {
        DEBIAN_FRONTEND: 'noninteractive',
        AOINB_GENERATION: `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`,
        ...(archives ? { AOINB_SHARED_ARCHIVES: '1' } : {}),
      },
      network: 'host', // apt update and full-upgrade; no bundle code runs here
      binds: archives ? [archives.bind] : [],
      extraArgs: ctx.config.build.nspawnArgs,
      onLine,
      signal,
    });
    if (exit.cancelled) throw new InstanceRefreshError('instance refresh was cancelled');
    if (exit.exitCode !== 0) throw new InstanceRefreshError(`apt in instance ${branch} exited ${exit.exitCode}`);
    if (archives) await pruneAptCache(layout.aptCacheDir, budget);
  } finally {
    await unmountAllUnder(dirs.merged);
    await archives?.release();
  }
}

/**
 * Creates the branch's instance layer on first use and refreshes it when due,
 * under an exclusive lock; then holds it shared for the build, so no refresh
 * changes a layer a running build sits on.
 */
export async function leaseInstance(
  ctx: BuildrootContext,
  branch: string,
  sourceListFile: string,
  requestedAt: number,
  options: { onLine?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<InstanceLease> {
  const layout = layoutOf(ctx);
  const dirs = layout.instance(branch);
  const lockFile = layout.lock(`instance-${branch}`);
  const started = Date.now();
  let refreshed = false;
  const exclusive = await acquireLock(lockFile, 'exclusive', options.signal);
  try {
    await Promise.all([dirs.upper, dirs.work, dirs.merged].map((dir) => mkdir(dir, { recursive: true })));
    await syncSourcesList(dirs.sourcesList, sourceListFile, options.onLine);
    await syncAb4Config(dirs.ab4Config, ctx.config.build.maintainer, options.onLine);
    const stamp = await readStamp(dirs.stamp);
    if (refreshDue(stamp, requestedAt, ctx.config.build.instanceRefreshMinutes)) {
      const startedAt = Date.now();
      const before = await readGeneration(dirs.upper);
      await refresh(ctx, branch, options.onLine, options.signal);
      await writeFile(dirs.stamp, JSON.stringify({ startedAt } satisfies RefreshStamp));
      refreshed = true;
      const after = await readGeneration(dirs.upper);
      // Made against the old instance, they could never match again: no build holds
      // one now (builds of this branch hold the instance shared, and we hold it exclusive).
      if (after !== before) await discardDepLayers(layout, (m) => m.branch === branch && m.generation !== after);
    }
  } finally {
    await exclusive.release();
  }
  const refreshMs = Date.now() - started;
  const shared: HeldLock = await acquireLock(lockFile, 'shared', options.signal);
  // Read under the shared hold: no refresh can change it while the build runs.
  const generation = await readGeneration(dirs.upper);
  return { lowers: [dirs.upper, layout.baseos], generation, refreshed, refreshMs, release: () => shared.release() };
}
