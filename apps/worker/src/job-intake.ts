import type { Job } from 'bullmq';
import type { Logger } from '@aoinb/logging';
import type { BuildJobData, BuildJobResult } from '@aoinb/farm-protocol';
import { CapacityRefusal, SettlingRefusal } from './claim-check.ts';
import type { JobRunner } from './job-runner.ts';
import { putBackDelayed, putBackWaiting } from './job-put-back.ts';
import { handBackForPlacement, type PlacementHandBack } from './placement-refusal.ts';
import { refuseOtherProtocol } from './protocol-guard.ts';
import type { SlotGate } from './slot-gate.ts';

export interface JobIntake {
  logger: Logger;
  gate: SlotGate;
  runner: JobRunner;
  /** Every job being run, for a shutdown to wait on. */
  inFlight: Set<Promise<unknown>>;
  placement: PlacementHandBack;
  /** How long a job refused by a settling build is put off (`[worker] settle_put_off_seconds`). */
  settlePutOffMs: number;
  /** True while the agent takes no jobs (draining, or paused by the host guard). */
  refusing(): boolean;
}

/**
 * The BullMQ processor of every arch queue: which jobs this host takes, and how it hands the
 * others back (another protocol version, no free shared slot, a job it cannot meet).
 */
export function jobProcessor(
  intake: JobIntake,
): (job: Job<BuildJobData>, token?: string, signal?: AbortSignal) => Promise<BuildJobResult> {
  return async (job, token, signal) => {
    await refuseOtherProtocol(job, token, intake.logger);
    // Fetched while draining or paused (a blocking fetch was already under way), or past the shared
    // slots (another arch's queue took the last one): straight back, to its place at the head.
    if (intake.refusing() || !intake.gate.tryTake()) return await putBackWaiting(job, token);
    const work = intake.runner.process(job, token ?? '', signal);
    intake.inFlight.add(work);
    try {
      return await work;
    } catch (error) {
      if (error instanceof SettlingRefusal) return await waitForSettle(intake, job, token);
      if (!(error instanceof CapacityRefusal)) throw error;
      intake.logger.debug({ jobId: job.id }, 'job handed back: it needs more than this host offers');
      return await handBackForPlacement(intake.placement, job, token);
    } finally {
      intake.inFlight.delete(work);
      intake.gate.release();
    }
  };
}

/**
 * A job re-queued while a report of its build was being published (SettlingRefusal): back to the queue,
 * delayed, never built; fetched again it completes without a build once the build is final.
 */
async function waitForSettle(intake: JobIntake, job: Job<BuildJobData>, token: string | undefined): Promise<never> {
  intake.logger.info({ jobId: job.id }, 'job put off: a report of its build is being published');
  return putBackDelayed(job, token, intake.settlePutOffMs);
}
