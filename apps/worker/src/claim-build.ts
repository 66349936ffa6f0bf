import type { Logger } from '@aoinb/logging';
import { isStale, newAttemptKey, type BuildJobResult, type LogStreamWriter } from '@aoinb/farm-protocol';
import { CapacityRefusal, SettlingRefusal, type ClaimCheckDeps } from './claim-check.ts';
import type { RunningJob } from './running-job.ts';

/** What a claim uses: the store and this host's capacity, its id, the logger. */
export interface ClaimDeps extends ClaimCheckDeps {
  builderId: string;
  logger: Logger;
}

/** A result for a build that ran nothing (settled, stale, cancelled before its start). */
export function emptyResult(deps: ClaimDeps, running: RunningJob, status: BuildJobResult['status']): BuildJobResult {
  return {
    status,
    builder: deps.builderId,
    run: running.data.run,
    attempt: running.attempt,
    startedAt: running.startedAt,
    finishedAt: new Date().toISOString(),
    artifacts: [],
    phases: {},
  };
}

/**
 * Marks the build running under a new attempt number (which fences any earlier attempt's uploads
 * and report), fenced on the job's run: a job of a run that was cancelled and retried meanwhile
 * cannot take the new run's build. The same guarded step checks the build's needs against this
 * host (docs/placement.md): refused, it throws CapacityRefusal with nothing changed. A build whose
 * current attempt's report is being published throws SettlingRefusal (nothing changed). Returns a
 * result when there is nothing to build (a final build: the job completes without building).
 */
export async function claimBuild(
  deps: ClaimDeps,
  running: RunningJob,
  log: LogStreamWriter,
): Promise<BuildJobResult | undefined> {
  const { data } = running;
  const now = new Date();
  const base = { taskId: data.taskId, arch: data.arch, run: data.run, archs: data.taskArchs };
  const key = newAttemptKey(base);
  const capacity = await deps.capacity?.();
  const outcome = await deps.store.transition({
    ...base,
    from: ['queued', 'running'],
    to: 'running',
    incrementAttempt: true,
    refuseIfCancelRequested: true,
    ...(capacity ? { capacity } : {}),
    set: {
      builder: deps.builderId,
      attemptKeyHash: key.hash,
      startedAt: now.toISOString(),
      startedAtMs: now.getTime(),
    },
    unset: ['reason', 'finishedAt'],
  });
  if (outcome.refusal === 'capacity') throw new CapacityRefusal(running.jobId);
  if (outcome.refusal === 'settling') throw new SettlingRefusal(running.jobId);
  if (outcome.done) {
    running.claimedAt = performance.now();
    running.attempt = outcome.attempt;
    running.attemptKey = key.key;
    if (outcome.previousState === 'running' && outcome.previousBuilder) {
      log.write(
        `[aoinb] builder ${outcome.previousBuilder} stopped answering during attempt ${outcome.attempt - 1}; ` +
          'the build starts again',
      );
    }
    return undefined;
  }
  return nothingToBuild(deps, running, log, outcome);
}

type Refused = Awaited<ReturnType<ClaimDeps['store']['transition']>>;

/** The claim was refused: cancelled before its start (ended here), stale, or already settled. */
async function nothingToBuild(
  deps: ClaimDeps,
  running: RunningJob,
  log: LogStreamWriter,
  outcome: Refused,
): Promise<BuildJobResult> {
  const { data } = running;
  const status = outcome.cancelRequested ? 'cancelled' : outcome.state === 'succeeded' ? 'succeeded' : 'failed';
  const result = emptyResult(deps, running, status);
  if (outcome.cancelRequested) {
    result.reason = 'cancelled before it started';
    // The same guarded script ends the log with the final state.
    await log.flush();
    await deps.store.transition({
      taskId: data.taskId,
      arch: data.arch,
      run: data.run,
      archs: data.taskArchs,
      from: ['queued', 'running'],
      to: 'cancelled',
      set: { reason: result.reason, finishedAt: result.finishedAt },
    });
  } else if (isStale(outcome.refusal)) {
    result.reason = `run ${data.run} is no longer current (the build is at run ${outcome.run}); nothing to do`;
    deps.logger.warn({ jobId: running.jobId, run: data.run, current: outcome.run }, 'stale job refused');
  } else {
    result.reason = `build is already ${outcome.state || 'gone'}; nothing to do`;
    deps.logger.info({ jobId: running.jobId, state: outcome.state }, 'job skipped: its build is already settled');
  }
  return result;
}
