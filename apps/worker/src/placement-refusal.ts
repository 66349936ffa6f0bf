import { DelayedError, type Job } from 'bullmq';

/**
 * How long a build this host cannot take stays out of the queue after a hand-back. The
 * coordinator's placement loop brings it back sooner (promotes it) as soon as a live builder
 * that can take it has a free slot, so this only bounds how often hosts that cannot take it
 * see it again: no claim/hand-back loop (docs/placement.md).
 */
export const placementRetryMs = 30_000;

/** The claim script refused: the build needs more than this host offers (nothing was changed, no attempt used). */
export class CapacityRefusal extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} needs more than this host offers`);
  }
}

/** Hands a job back for placement: delayed (not failed, no BullMQ attempt used), for the coordinator to promote. */
export async function handBackForPlacement(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}
