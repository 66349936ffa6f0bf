import type { EnvReq } from '@aoinb/bundle';
import { hasNeeds, mergeNeeds, type BuildNeeds, type LearnedRequirement, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { LearnedStore, learnedNeeds } from './learned-requirements.ts';

/** ENVREQ in BuildIt!'s units (GiB of memory, GB of disk) as needs in bytes. */
export function needsOfEnvReq(envreq: EnvReq): BuildNeeds {
  return mergeNeeds({
    ...(envreq.core !== undefined ? { cores: envreq.core } : {}),
    ...(envreq.totalMemGiB !== undefined ? { memoryBytes: Math.ceil(envreq.totalMemGiB * 1024 ** 3) } : {}),
    ...(envreq.totalMemPerCoreGiB !== undefined
      ? { memoryPerCoreBytes: Math.ceil(envreq.totalMemPerCoreGiB * 1024 ** 3) }
      : {}),
    ...(envreq.diskGB !== undefined ? { diskBytes: Math.ceil(envreq.diskGB * 1e9) } : {}),
  });
}

/**
 * What a host needs to take a build of `task` on `arch` now: its bundle's ENVREQ for that arch
 * and the package's learned requirement there, the larger of each, and a build network when the
 * task asked for one (`needs` undefined: nothing asked), with the learned requirement itself for
 * the status.
 */
export async function buildNeeds(
  ctx: CoordinatorContext,
  task: TaskRecord,
  arch: string,
): Promise<{ needs?: BuildNeeds; learned?: LearnedRequirement }> {
  const declared = task.bundle?.needs?.[arch] ?? {};
  const learned = task.bundle
    ? await new LearnedStore(ctx.redis, ctx.keys).get(task.bundle.packageName, arch)
    : undefined;
  const needs = mergeNeeds(declared, learnedNeeds(learned), task.network === true ? { network: true } : {});
  return { ...(hasNeeds(needs) ? { needs } : {}), ...(learned ? { learned } : {}) };
}
