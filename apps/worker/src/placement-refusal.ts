import { WaitingError, type Job } from 'bullmq';
import {
  freeAbleBuilder,
  liveBuildersOf,
  readBuilders,
  sleep,
  type BuildJobData,
  type FarmKeys,
  type FarmStore,
  type RedisClient,
} from '@aoinb/farm-protocol';
import { jobNeeds } from './claim-check.ts';
import { putBackDelayed } from './job-put-back.ts';

/**
 * How long a build no live host can take now stays out of the queue after a hand-back. The
 * coordinator's placement loop brings it back sooner (to the head of its queue) as soon as a live
 * builder that can take it has a free slot, so this only bounds how often hosts that cannot take
 * it see it again: no claim/hand-back loop (docs/placement.md).
 */
export const placementRetryMs = 30_000;

/**
 * How long, at most, a host that handed a job back to an able free host keeps out of its queue
 * (the able host takes it within a fetch; this bounds a heartbeat that said "free" too late).
 */
export const stepAsideMs = 5_000;

export interface PlacementHandBack {
  redis: RedisClient;
  keys: FarmKeys;
  store: FarmStore;
  /** This host: never counted as the able one. */
  builderId: string;
  /** Default placementRetryMs and stepAsideMs. */
  retryMs?: number;
  stepAsideMs?: number;
  /** Ends a step aside early (the agent stopping). */
  signal?: AbortSignal;
}

/**
 * Hands a job this host cannot take back for placement, never failed and with no BullMQ attempt
 * used. When another live builder that can take it has a free slot (its heartbeat), the job goes
 * back to the head of its queue, where it was, and this host steps aside: it holds the slot it
 * took the job with, fetching nothing, until another host took the job (or `stepAsideMs`). So the
 * able host gets it, after at most one refusal per slot of each host that cannot take it, however
 * BullMQ orders the fetches. Otherwise the job waits delayed for the coordinator to bring it back.
 */
export async function handBackForPlacement(
  h: PlacementHandBack,
  job: Job<BuildJobData>,
  token: string | undefined,
): Promise<never> {
  const needs = await jobNeeds(h.store, job.data);
  const others = liveBuildersOf(await readBuilders(h.redis, Date.now(), h.keys), job.data.arch).filter(
    (b) => b.id !== h.builderId,
  );
  if (!freeAbleBuilder(needs, others)) return putBackDelayed(job, token, h.retryMs ?? placementRetryMs);
  await job.moveToWait(token);
  await stepAside(job, h.stepAsideMs ?? stepAsideMs, h.signal);
  throw new WaitingError();
}

/** Waits while the job is still waiting in its queue (another host takes it), at most `ms`. */
async function stepAside(job: Job, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !signal?.aborted) {
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'prioritized') return;
    await sleep(25, signal);
  }
}
