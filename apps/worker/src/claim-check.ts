import type { Job } from 'bullmq';
import {
  isFinalBuildState,
  mergeNeeds,
  shortfallsOf,
  type BuildJobData,
  type BuildNeeds,
  type FarmStore,
  type HostCapacity,
} from '@aoinb/farm-protocol';

/** What the claim checks need: the store, and what this host offers now (unset: not checked). */
export interface ClaimCheckDeps {
  store: FarmStore;
  capacity?: () => Promise<HostCapacity>;
}

/** The claim check refused: the build needs more than this host offers (nothing was changed, no attempt used). */
export class CapacityRefusal extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} needs more than this host offers`);
  }
}

/**
 * The claim was refused because a report of the build's current attempt is being published (the job was
 * re-queued under it, e.g. its lock lapsed in a Redis outage): nothing changed; the job is put off
 * (`[worker] settle_put_off_seconds`) and fetched again, when the build is final (the job completes without
 * building) or the report's mark lapsed.
 */
export class SettlingRefusal extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId}: a report of its build's attempt is being published`);
  }
}

/** A job asks for a build network when it, or any step of its sequence, does. */
export function jobNeedsNetwork(data: BuildJobData): boolean {
  return data.network === true || (data.sequence ?? []).some((step) => step.network === true);
}

/**
 * What a job needs of the one host that runs it: the needs of its build, or for a sequential
 * group's job the largest of each need over its steps still to build (a step already final is
 * skipped wherever the job runs), with a build network when one of them asks for it.
 */
export async function jobNeeds(store: FarmStore, data: BuildJobData): Promise<BuildNeeds> {
  const steps = data.sequence ?? [data];
  const records = await Promise.all(steps.map((s) => store.getBuild(s.taskId, s.arch)));
  const open = steps.flatMap((step, i) => {
    const build = records[i];
    if (!build || build.run !== step.run || isFinalBuildState(build.state)) return [];
    return [build.needs ?? {}, step.network === true ? { network: true } : {}];
  });
  return mergeNeeds(...open);
}

/**
 * The claim check of a whole job, before anything starts: a sequential group's steps all run on
 * this host, so it must meet the needs of the largest of them (not find out at its third step).
 * Each build's own claim still checks its needs atomically in the guarded script. A single
 * build is left to that claim, except for a build network, which its job data asks for too.
 */
export async function checkWholeJob(deps: ClaimCheckDeps, job: Job<BuildJobData>): Promise<void> {
  if (!deps.capacity || !(job.data.sequence || jobNeedsNetwork(job.data))) return;
  const [capacity, needs] = await Promise.all([deps.capacity(), jobNeeds(deps.store, job.data)]);
  if (shortfallsOf(needs, capacity).length > 0) throw new CapacityRefusal(job.id ?? '');
}
