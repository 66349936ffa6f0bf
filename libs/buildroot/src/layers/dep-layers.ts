import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, utimes, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { acquireLock, tryAcquireLock, type HeldLock } from '../host/file-lock.ts';
import { currentProcess } from '../host/process-identity.ts';
import type { WorkLayout } from '../work-layout.ts';
import { forgetResolutions } from './dep-resolutions.ts';
import { discardDir } from './discard.ts';

/** One package as apt resolved it in the instance before installing. */
export interface ResolvedPackage {
  name: string;
  version: string;
  arch: string;
}

export interface DepLayerMeta {
  key: string;
  branch: string;
  generation: string;
  arch: string;
  packages: string[];
  bytes: number;
  createdAt: string;
}

export interface DepLayerLease {
  /** The layer's folder, to be mounted read-only as the workspace's top lower layer. */
  layer: string;
  /** Whether this build made the layer (false: an earlier build's, reused). */
  built: boolean;
  release(): Promise<void>;
}

export type BuildOutcome = { ok: true } | { ok: false; reason: string; cancelled: boolean };

/** Builds a layer's content into `upper` (a fresh overlay upper over the instance, mounted at `merged`). */
export type LayerBuilder = (dirs: {
  dir: string;
  upper: string;
  work: string;
  merged: string;
}) => Promise<BuildOutcome>;

/** A lease, a failed build of the layer, or neither (evicted under us each time: install privately). */
export type DepLayerResult = { lease: DepLayerLease } | { failure: BuildOutcome & { ok: false } } | { lease?: never };

/**
 * A dependency layer's name: the instance generation (changes with every refresh
 * that changed the instance), the arch and the exact package set with versions.
 */
export function depLayerKey(generation: string, arch: string, packages: ResolvedPackage[]): string {
  const set = packages.map((p) => `${p.name}=${p.version}:${p.arch}`).sort();
  return createHash('sha256').update(JSON.stringify({ generation, arch, set })).digest('hex').slice(0, 32);
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

const lockOf = (layout: WorkLayout, key: string) => layout.lock(`dep-layer-${key}`);

/**
 * The layer for `key`, held shared for the build (eviction takes it exclusive,
 * so a layer in use is never deleted). Missing, it is built by one build while
 * the others with the same key wait on its exclusive lock; built in a temporary
 * folder and renamed into place, so a layer folder is always complete.
 */
export async function leaseDepLayer(
  layout: WorkLayout,
  meta: Omit<DepLayerMeta, 'bytes' | 'createdAt'>,
  builder: LayerBuilder,
  signal?: AbortSignal,
): Promise<DepLayerResult> {
  const dir = path.join(layout.depLayersDir, meta.key);
  let built = false;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const shared = await acquireLock(lockOf(layout, meta.key), 'shared', signal);
    if (await exists(path.join(dir, 'meta.json'))) {
      const now = new Date();
      await utimes(path.join(dir, 'meta.json'), now, now);
      return { lease: { layer: path.join(dir, 'layer'), built, release: () => shared.release() } };
    }
    await shared.release();
    const exclusive = await acquireLock(lockOf(layout, meta.key), 'exclusive', signal);
    try {
      if (!(await exists(path.join(dir, 'meta.json')))) {
        const outcome = await buildLayer(layout, meta, builder);
        if (!outcome.ok) return { failure: outcome };
        built = true;
      }
    } finally {
      await exclusive.release();
    }
    // Evicted between our exclusive and shared hold (a tight budget): try again.
  }
  return {};
}

async function buildLayer(
  layout: WorkLayout,
  meta: Omit<DepLayerMeta, 'bytes' | 'createdAt'>,
  builder: LayerBuilder,
): Promise<BuildOutcome> {
  const tmp = path.join(layout.depLayersDir, `.tmp-${meta.key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const dirs = {
    dir: tmp,
    upper: path.join(tmp, 'layer'),
    work: path.join(tmp, 'work'),
    merged: path.join(tmp, 'merged'),
  };
  await mkdir(tmp, { recursive: true });
  try {
    await writeFile(path.join(tmp, 'owner.json'), JSON.stringify(await currentProcess()));
    await Promise.all([dirs.upper, dirs.work, dirs.merged].map((d) => mkdir(d)));
    const outcome = await builder(dirs);
    if (!outcome.ok) return outcome;
    // Our own staging (names, script) is no part of the layer.
    await rm(path.join(dirs.upper, 'buildroot'), { recursive: true, force: true });
    await Promise.all(['work', 'merged'].map((name) => rm(path.join(tmp, name), { recursive: true })));
    // The upper may have been mounted volatile: make it durable before it is published.
    await execa('sync', ['--file-system', dirs.upper]);
    const bytes = Number((await execa('du', ['-sb', dirs.upper])).stdout.split('\t')[0]);
    const full: DepLayerMeta = { ...meta, bytes, createdAt: new Date().toISOString() };
    await writeFile(path.join(tmp, 'meta.json'), `${JSON.stringify(full, null, 2)}\n`);
    await rename(tmp, path.join(layout.depLayersDir, meta.key));
    // Only now: without an owner, stale-state recovery would take the folder for a dead one's.
    await rm(path.join(layout.depLayersDir, meta.key, 'owner.json'));
    return outcome;
  } finally {
    if (await exists(tmp)) await discardDir(layout, tmp);
  }
}

export async function listDepLayers(layout: WorkLayout): Promise<(DepLayerMeta & { lastUsedMs: number })[]> {
  const names = (await readdir(layout.depLayersDir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  const layers = await Promise.all(
    names.map(async (name) => {
      const file = path.join(layout.depLayersDir, name, 'meta.json');
      try {
        const meta = JSON.parse(await readFile(file, 'utf8')) as DepLayerMeta;
        return { ...meta, lastUsedMs: (await stat(file)).mtimeMs };
      } catch {
        return undefined;
      }
    }),
  );
  return layers.filter((l) => l !== undefined).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
}

/** Deletes one layer unless a build holds it; true when it was deleted. */
async function dropLayer(layout: WorkLayout, key: string, wait: boolean, signal?: AbortSignal): Promise<boolean> {
  const lock: HeldLock | undefined = wait
    ? await acquireLock(lockOf(layout, key), 'exclusive', signal)
    : await tryAcquireLock(lockOf(layout, key), 'exclusive');
  if (!lock) return false;
  try {
    await discardDir(layout, path.join(layout.depLayersDir, key));
    return true;
  } finally {
    await lock.release();
  }
}

/** Least recently used layers first, skipping those in use, until the rest fit in `budgetBytes`. */
export async function evictDepLayers(layout: WorkLayout, budgetBytes: number, keep?: string): Promise<string[]> {
  const layers = await listDepLayers(layout);
  let total = layers.reduce((sum, l) => sum + l.bytes, 0);
  const evicted: string[] = [];
  for (const layer of layers) {
    if (total <= budgetBytes) break;
    if (layer.key === keep || !(await dropLayer(layout, layer.key, false))) continue;
    total -= layer.bytes;
    evicted.push(layer.key);
  }
  return evicted;
}

/**
 * Deletes the layers `select` picks: those of an instance whose generation moved
 * on (they can never match again), or all of them (cleanup, a new base OS).
 * `wait`: block until builds using them finish (cleanup) instead of skipping them.
 */
export async function discardDepLayers(
  layout: WorkLayout,
  select: (meta: Pick<DepLayerMeta, 'branch' | 'generation'>) => boolean,
  options: { wait?: boolean; signal?: AbortSignal } = {},
): Promise<string[]> {
  await forgetResolutions(layout, select);
  const dropped: string[] = [];
  for (const layer of await listDepLayers(layout)) {
    if (select(layer) && (await dropLayer(layout, layer.key, options.wait ?? false, options.signal)))
      dropped.push(layer.key);
  }
  return dropped;
}
