import type { BuildPhase, BuildState, FailureClass, ResourceSummary, TaskState } from '@aoinb/farm-contract';
import type { BuildNeeds, LearnedRequirement } from './placement.ts';

// States, builder facts and the messages on Redis channels are part of the contract.
export { finalBuildStates, isFinalBuildState } from '@aoinb/farm-contract/states';
export type { TaskState, BuildState, BuilderFacts, BuilderState, CancelMessage, FarmEvent } from '@aoinb/farm-contract';
import type { BuilderFacts, BuilderState } from '@aoinb/farm-contract';

/** What the coordinator learnt from the uploaded bundle (parsed statically). */
export interface BundleInfo {
  sha256: string;
  /** Size of the uploaded archive, bytes. */
  size: number;
  packageName: string;
  version: string;
  noarch: boolean;
  /** Archs of the farm the bundle's ALLOW_ARCH / FAIL_ARCH filters allow (noarch: the noarch arch). */
  targets: string[];
  uploadedAt: string;
  /** Per target arch: the host the bundle's ENVREQ asks for (placement.ts units); absent = no ENVREQ. */
  needs?: Record<string, BuildNeeds>;
}

/** `{aoinb}:task:<id>`. Times are ISO 8601 strings. */
export interface TaskRecord {
  id: string;
  state: TaskState;
  createdAt: string;
  updatedAt: string;
  /** Name of the token that created the task. */
  createdBy: string;
  branch?: string;
  bundle?: BundleInfo;
  /** Archs queued by `PUT /task/:id/build` (empty before). */
  archs: string[];
  /** Per-job timeout, ms (0 = none). */
  timeoutMs: number;
  /** Set when the task belongs to a group build (issue 4). */
  groupId?: string;
  /** Its builds have a network (asked for at build time, allowed by `[coordinator] network_builds`). */
  network?: boolean;
  finishedAt?: string;
}

export interface ArtifactRecord {
  name: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  /** Branch repository the deb was published to, once published. */
  publishedTo?: string;
}

/** `{aoinb}:task:<id>:build:<arch>`: one arch of a task. */
export interface BuildRecord {
  taskId: string;
  arch: string;
  state: BuildState;
  /** 1 for the first run; `POST /task/:id/retry` starts a new run (new job, new log). */
  run: number;
  jobId: string;
  /** How many times this run's job has been started (a lost worker's job starts again). */
  attempt: number;
  builder?: string;
  /** sha256 of the running attempt's key (attempt-key.ts): uploads and the result must present the key. */
  attemptKeyHash?: string;
  /** Set by a cancel request while running; the worker aborts when it sees it. */
  cancelRequested: boolean;
  queuedAt: string;
  startedAt?: string;
  /** Epoch ms of startedAt, for latency measurements. */
  startedAtMs?: number;
  finishedAt?: string;
  reason?: string;
  /** Why it did not succeed, as a class (the contract's failureClasses). */
  failureClass?: FailureClass;
  artifacts: ArtifactRecord[];
  phases?: Partial<Record<BuildPhase, number>>;
  resources?: ResourceSummary;
  /**
   * What a host needs to take this run (ENVREQ and the learned requirement, docs/placement.md); the claim checks it.
   */
  needs?: BuildNeeds;
  /** The package's learned requirement on this arch when this run was queued (part of `needs`). */
  learned?: LearnedRequirement;
  /** Milliseconds from the claim to the first line of the package's own build step (the worker's report). */
  startupMs?: number;
}

export interface BuilderStatus {
  id: string;
  state: BuilderState;
  lastHeartbeat: string;
  /** Undefined once the heartbeat record expired (offline). */
  facts?: BuilderFacts;
}
