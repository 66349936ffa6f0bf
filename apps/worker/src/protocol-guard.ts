import type { Job } from 'bullmq';
import type { BuildJobData } from '@aoinb/farm-contract';
import { PROTOCOL_VERSION } from '@aoinb/farm-contract/protocol';
import type { Logger } from '@aoinb/logging';
import { putBackDelayed } from './job-put-back.ts';

/** How long a job of another protocol version waits before a worker looks at it again. */
export const handBackDelayMs = 60_000;

/**
 * A job queued by a coordinator of another protocol version is never run: this
 * worker could misread it. It goes back to its queue, delayed so that a worker
 * of the right version takes it first, and the worker's log says why. Resolves
 * when the job is of this version; throws BullMQ's DelayedError after handing it back.
 */
export async function refuseOtherProtocol(
  job: Job<BuildJobData>,
  token: string | undefined,
  logger: Logger,
): Promise<void> {
  const theirs = (job.data as { protocol?: unknown }).protocol;
  if (theirs === PROTOCOL_VERSION) return;
  logger.error(
    {
      jobId: job.id,
      taskId: job.data.taskId,
      arch: job.data.arch,
      jobProtocol: theirs ?? null,
      protocol: PROTOCOL_VERSION,
    },
    `job ${job.id} was queued for protocol ` +
      `version ${theirs === undefined ? '(none)' : JSON.stringify(theirs)}; ` +
      `this worker speaks version ${PROTOCOL_VERSION}: handed back to the queue unrun (upgrade this worker or the ` +
      `coordinator so they match)`,
  );
  await putBackDelayed(job, token, handBackDelayMs);
}
