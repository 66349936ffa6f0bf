import type { Job } from 'bullmq';
import type { Logger } from '@aoinb/logging';
import type { BuildJobData, CancelMessage } from '@aoinb/farm-protocol';

/** Why a running build was aborted: a cancel request, the per-job timeout, or this worker shutting down. */
export type AbortCause = 'cancel' | 'timeout' | 'shutdown';

/** A job this worker is running; the agent aborts it on cancel, timeout or shutdown. */
export class RunningJob {
  private readonly controller = new AbortController();
  readonly startedAt = new Date().toISOString();

  /** Set when the build is claimed: the build record's attempt counter, which fences uploads and results. */
  attempt = 0;
  /** Set with the attempt: the secret this attempt's uploads and result carry (its hash is in the build record). */
  attemptKey = '';
  /** `performance.now()` when the claim succeeded. */
  claimedAt = 0;
  /** Milliseconds from the claim to the first line of the package's own build step (undefined until then). */
  startupMs: number | undefined;

  /** `step`: one member of a sequential group's job (the job's own data otherwise). */
  constructor(
    readonly job: Job<BuildJobData>,
    readonly token: string,
    private readonly step?: BuildJobData,
  ) {}

  get data(): BuildJobData {
    return this.step ?? this.job.data;
  }

  get jobId(): string {
    return this.job.id ?? '';
  }

  /** Unique per build of this job: the job id, plus the task for a step of a sequence. */
  get buildKey(): string {
    return this.step ? `${this.jobId}-t${this.step.taskId}` : this.jobId;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first cause wins; later aborts do not change it. */
  abort(cause: AbortCause): void {
    if (!this.controller.signal.aborted) this.controller.abort(cause);
  }

  get cause(): AbortCause | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as AbortCause) : undefined;
  }
}

/**
 * A cancel stops only the build of the named run and attempt (a sequence's
 * step still waiting for its dependencies has no attempt yet: its job id
 * names it). A cancel of another run or attempt of a job held here is stale:
 * logged, not applied.
 */
export function applyCancel(running: Iterable<RunningJob>, message: CancelMessage, logger: Logger): void {
  let matched = false;
  for (const job of running) {
    const { data } = job;
    const same = data.taskId === message.taskId && data.arch === message.arch && data.run === message.run;
    if ((same && job.attempt === message.attempt) || (job.attempt === 0 && job.jobId === message.jobId)) {
      job.abort('cancel');
      matched = true;
    } else if (same) {
      logger.warn({ ...message, attempt: job.attempt, asked: message.attempt }, 'stale cancel ignored');
    }
  }
  if (!matched) logger.debug({ ...message }, 'cancel for a build not running here');
}
