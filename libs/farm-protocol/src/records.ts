import type { FailureClass } from '@aoinb/errors';
import type { BuildPhase, ResourceSummary } from '@aoinb/buildroot';
import type { BuildNeeds } from './placement.ts';

/** The state of a task as the API reports it. */
export type TaskState = 'created' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The state of one arch of a task (one BullMQ job per run). */
export type BuildState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const finalBuildStates: readonly BuildState[] = ['succeeded', 'failed', 'cancelled'];

export function isFinalBuildState(state: string): state is 'succeeded' | 'failed' | 'cancelled' {
  return (finalBuildStates as readonly string[]).includes(state);
}

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
  /** Why it did not succeed, as a class (see @aoinb/errors failure-class.ts). */
  failureClass?: FailureClass;
  artifacts: ArtifactRecord[];
  phases?: Partial<Record<BuildPhase, number>>;
  resources?: ResourceSummary;
  /** What a host needs to take this run (ENVREQ and the learned requirement, docs/placement.md); the claim checks it. */
  needs?: BuildNeeds;
}

/** Host facts a worker publishes with every heartbeat. */
export interface BuilderFacts {
  id: string;
  hostname: string;
  archs: string[];
  slots: number;
  cores: number;
  memoryTotalBytes: number;
  memoryFreeBytes: number;
  diskFreeBytes: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  currentTasks: Array<{ taskId: string; arch: string; jobId: string; startedAt: string }>;
  /** `draining`: SIGTERM received, taking no new jobs; `paused`: taking no jobs for `pausedReason` (disk, farm identity). */
  mode: 'active' | 'draining' | 'paused';
  /** Why a paused builder takes no jobs, for people (`GET /builder/status`). */
  pausedReason?: string;
  startedAt: string;
  lastHeartbeat: string;
  version: string;
}

export type BuilderState = 'idle' | 'building' | 'offline';

export interface BuilderStatus {
  id: string;
  state: BuilderState;
  lastHeartbeat: string;
  /** Undefined once the heartbeat record expired (offline). */
  facts?: BuilderFacts;
}

/** Message on `farmKeys.cancelChannel`. */
export interface CancelMessage {
  taskId: string;
  arch: string;
  jobId: string;
  /** The run and attempt to stop: a worker on another run or attempt ignores the message. */
  run: number;
  attempt: number;
  reason: string;
}

/** Entry of the farm event stream. */
export interface FarmEvent {
  type: 'build' | 'task';
  taskId: string;
  arch?: string;
  state: string;
  from?: string;
  builder?: string;
  at: string;
}
