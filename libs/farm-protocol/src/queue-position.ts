import { ErrorCode, type Job } from 'bullmq';

/**
 * A job handed back for placement keeps its place in its queue (docs/placement.md).
 *
 * A worker takes the head of its queue, so a job it hands back was first in line. BullMQ's
 * `moveToWait` puts an active job back there (the consuming end of the wait list; for a prioritized
 * job, before the others of its priority). A delayed job that `promote()` brings back goes to the
 * other end, behind every job queued meanwhile; `changePriority({ lifo: true })` with its own
 * priority then moves it to the head again (the same two places `moveToWait` uses). Between the two
 * calls a worker may take it from the end: only when nothing else is waiting, so nothing is lost.
 *
 * Several jobs brought back in one pass: call this newest first, so the oldest ends at the head.
 *
 * False when the job is not delayed (any more): its delay ran out, another coordinator or host brought
 * it back, or it is gone. That is read from promote()'s own answer, not checked before it, since the
 * job can leave the delayed set between a check and the promote (a CI failure: "not in the delayed state").
 */
export async function promoteToHead(job: Job): Promise<boolean> {
  try {
    await job.promote();
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
  await job.changePriority({ priority: job.priority, lifo: true });
  return true;
}

function isLostRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === ErrorCode.JobNotInState || code === ErrorCode.JobNotExist;
}
