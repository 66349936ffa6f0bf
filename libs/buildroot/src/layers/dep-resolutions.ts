import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkLayout } from '../work-layout.ts';
import type { ResolvedPackage } from './dep-layers.ts';

/** What apt resolved a build's dependency names to, in one instance generation. */
export interface DepResolution {
  branch: string;
  generation: string;
  arch: string;
  names: string[];
  packages: ResolvedPackage[];
}

const dirOf = (layout: WorkLayout) => path.join(layout.depLayersDir, '.resolved');

function fileOf(layout: WorkLayout, generation: string, arch: string, names: string[]): string {
  const id = createHash('sha256')
    .update(JSON.stringify({ generation, arch, names: [...names].sort() }))
    .digest('hex')
    .slice(0, 32);
  return path.join(dirOf(layout), `${id}.json`);
}

/**
 * apt's answer for these names in this generation, if it was asked before. Within
 * one generation the instance does not change (its lists, its dpkg status), so the
 * answer cannot either: a warm build finds its layer without starting apt (whose
 * first run in a fresh workspace costs seconds: it opens its 50 MB package cache).
 */
export async function recalledResolution(
  layout: WorkLayout,
  generation: string,
  arch: string,
  names: string[],
): Promise<ResolvedPackage[] | undefined> {
  try {
    const found = JSON.parse(await readFile(fileOf(layout, generation, arch, names), 'utf8')) as DepResolution;
    return found.generation === generation ? found.packages : undefined;
  } catch {
    return undefined;
  }
}

export async function rememberResolution(layout: WorkLayout, resolution: DepResolution): Promise<void> {
  const file = fileOf(layout, resolution.generation, resolution.arch, resolution.names);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(resolution));
  await rename(tmp, file);
}

/** Forgets the answers `select` picks (an instance generation gone, cleanup). */
export async function forgetResolutions(
  layout: WorkLayout,
  select: (r: Pick<DepResolution, 'branch' | 'generation'>) => boolean,
): Promise<void> {
  for (const name of await readdir(dirOf(layout)).catch(() => [] as string[])) {
    const file = path.join(dirOf(layout), name);
    const found = await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as DepResolution)
      .catch(() => undefined);
    if (!found || select(found)) await rm(file, { force: true });
  }
}
