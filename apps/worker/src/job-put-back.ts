import { DelayedError, WaitingError, type Job } from 'bullmq';

/**
 * A job this worker fetched but does not run, put back with no BullMQ attempt used: BullMQ expects the
 * processor to move the job itself, then throw the matching error so that it leaves the job where it was put.
 */

/** Back to its queue, delayed `ms`: no worker fetches it before then. */
export async function putBackDelayed(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}

/** Back to the head of its queue, for the next fetch (this worker's or another's). */
export async function putBackWaiting(job: Job, token: string | undefined): Promise<never> {
  await job.moveToWait(token);
  throw new WaitingError();
}
