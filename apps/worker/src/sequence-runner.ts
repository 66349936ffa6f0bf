import type { Job } from 'bullmq';
import {
  parseMemberKey,
  sleep,
  type BuildJobData,
  type BuildJobResult,
  type FarmStore,
  type SequenceStep,
} from '@aoinb/farm-protocol';
import { putBackWaiting } from './job-put-back.ts';
import type { JobRunnerDeps } from './job-runner.ts';
import { RunningJob } from './running-job.ts';

type Readiness = 'ready' | 'skip' | 'stop';

/**
 * Whether every dependency of a step succeeded ('ready'), one did not ('skip'), or some are still to come (undefined).
 */
async function dependencyVerdict(store: FarmStore, step: SequenceStep): Promise<Readiness | undefined> {
  const states = await Promise.all(
    step.after.map(async (key) => {
      const { taskId, arch } = parseMemberKey(key);
      return (await store.getBuild(taskId, arch))?.state ?? '';
    }),
  );
  if (states.some((s) => s === 'failed' || s === 'cancelled')) return 'skip';
  return states.every((s) => s === 'succeeded') ? 'ready' : undefined;
}

/**
 * Waits for a step's dependencies. In its own sequence they ended already
 * (the steps are in dependency order); a noarch member built by another arch's
 * sequence may still be running. While waiting the step is listed as running
 * on this builder, so a shutdown hands the whole job back and a cancel stops
 * the wait.
 */
async function awaitDependencies(
  deps: JobRunnerDeps,
  job: Job<BuildJobData>,
  token: string,
  step: SequenceStep,
): Promise<Readiness> {
  const first = await dependencyVerdict(deps.store, step);
  if (first) return first;
  const waiter = new RunningJob(job, token, step);
  deps.onStarted(waiter);
  try {
    for (;;) {
      await sleep(1000, waiter.signal);
      if (waiter.cause === 'shutdown') return 'stop';
      if (waiter.cause) return 'skip';
      const verdict = await dependencyVerdict(deps.store, step);
      if (verdict) return verdict;
    }
  } finally {
    deps.onFinished(waiter);
  }
}

/**
 * A sequential group's job: its members, in order, on this host. Each step is
 * an ordinary build (claimed, fenced, uploaded and reported on its own: the
 * coordinator adds its debs to the group repository before the next step's
 * container refreshes apt). A step whose dependency did not succeed is left
 * for the coordinator to mark skipped. A job that comes back (a lost worker,
 * a shutdown) runs again from the top: steps already final are not built
 * again (their claim is refused).
 */
export async function runSequence(
  deps: JobRunnerDeps,
  job: Job<BuildJobData>,
  token: string,
  bullSignal: AbortSignal | undefined,
  buildStep: (step: BuildJobData) => Promise<BuildJobResult>,
): Promise<BuildJobResult> {
  const results: BuildJobResult[] = [];
  const startedAt = new Date().toISOString();
  for (const step of job.data.sequence ?? []) {
    if (bullSignal?.aborted) break;
    const readiness = await awaitDependencies(deps, job, token, step);
    if (readiness === 'stop') return putBackWaiting(job, token);
    if (readiness === 'skip') {
      deps.logger.info({ jobId: job.id, taskId: step.taskId }, 'sequence step skipped: a dependency did not succeed');
      continue;
    }
    results.push(await buildStep(step));
  }
  const failed = results.filter((r) => r.status !== 'succeeded').length;
  return {
    status: failed === 0 ? 'succeeded' : 'failed',
    ...(failed > 0 ? { reason: `${failed} of ${results.length} steps did not succeed` } : {}),
    builder: deps.builderId,
    run: job.data.run,
    attempt: 0,
    startedAt,
    finishedAt: new Date().toISOString(),
    artifacts: results.flatMap((r) => r.artifacts),
    phases: {},
  };
}
