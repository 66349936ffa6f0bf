import type { Job } from 'bullmq';
import type { BuildJobData } from '@aoinb/farm-protocol';

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
