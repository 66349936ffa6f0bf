import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildrootContext } from '../context.ts';
import { layoutOf } from '../context.ts';
import { aptArchivesInContainer, holdAptCache, pruneAptCache } from '../layers/apt-cache.ts';
import { feedAptCache, fillFromAptCache, parsePlannedArchives } from '../layers/verified-archives.ts';
import { installDependencies, runDepsMode, stageScript, type DepsOutcome, type DepsStep } from './install-deps.ts';

/** The base URLs of extra apt source lines (`deb [options] URL suite ...`); undefined if one has none. */
export function repositoryUrls(lines: string[]): string[] | undefined {
  const urls = lines.map((line) => /^deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)/.exec(line.trim())?.[1]);
  return urls.every((u) => u !== undefined) ? urls : undefined;
}

/** Runs `step` holding the shared cache in `mode`; the hold is released whatever happens. */
async function withCache<T>(ctx: BuildrootContext, mode: 'read' | 'write', step: () => Promise<T>): Promise<T> {
  const hold = await holdAptCache(layoutOf(ctx), mode);
  try {
    return await step();
  } finally {
    await hold.release();
  }
}

/**
 * The dependency step of a build with extra apt repositories (a group's fresh debs),
 * in its own workspace: `plan` refreshes the lists and lists each archive with its
 * SHA256; the host copies in what its shared cache holds with that digest; `download`
 * fetches only the rest; what came from outside the extra repositories is added to
 * the shared cache (an extra repository's only under its digest, where apt never looks);
 * `install` runs without a network. The cache is never bound here (layers/verified-archives.ts).
 * Without a parsable URL for every extra repository, or with `apt_cache_mib = 0`,
 * the workspace downloads everything itself, as before.
 */
export async function installWithRepositories(
  ctx: BuildrootContext,
  deps: DepsStep,
  sourceLines: string[],
): Promise<DepsOutcome> {
  const repositories = repositoryUrls(sourceLines);
  const budget = ctx.config.build.aptCacheMib * 2 ** 20;
  if (!repositories || budget === 0) return installDependencies({ ...deps, aptUpdate: true });
  const cacheDir = layoutOf(ctx).aptCacheDir;
  const archivesDir = path.join(deps.merged, aptArchivesInContainer);
  await stageScript(deps);
  await mkdir(archivesDir, { recursive: true });
  const plan = await runDepsMode(deps, 'plan');
  if (!plan.ok) return plan;
  const planned = parsePlannedArchives(await readFile(path.join(deps.merged, 'buildroot/deps/uris'), 'utf8'));
  const copied = await withCache(ctx, 'read', () => fillFromAptCache(cacheDir, archivesDir, planned));
  deps.onLine(`[aoinb] ${copied.length} of ${planned.length} archive(s) taken from the host's apt cache (by SHA256)`);
  const step = { ...deps, aptUpdate: false };
  const download = await runDepsMode(step, 'download');
  if (!download.ok) return download;
  await withCache(ctx, 'write', async () => {
    const added = await feedAptCache(cacheDir, archivesDir, planned, repositories);
    if (added.length > 0) deps.onLine(`[aoinb] ${added.length} archive(s) added to the host's apt cache`);
    await pruneAptCache(cacheDir, budget, [...copied, ...added]);
  });
  return runDepsMode(step, 'install');
}
