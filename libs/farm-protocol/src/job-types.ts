import type { BuildPhase, BuildStatus, ExtraAptSource, ResourceSummary } from '@aoinb/buildroot';
import type { FailureClass } from '@aoinb/errors';

/** The BullMQ job name of a build job. */
export const buildJobName = 'build';

/** Payload of a job on `build-<arch>`. Everything a worker needs; it reads nothing else to start. */
export interface BuildJobData {
  taskId: string;
  arch: string;
  run: number;
  /** Every arch of the task: the state scripts derive the task's state from all of them. */
  taskArchs: string[];
  branch: string;
  package: { name: string; version: string; noarch: boolean };
  /** sha256 of the bundle archive; the worker checks what it downloads against it. */
  bundleSha256: string;
  bundleSize: number;
  /** Per-job timeout (ms); 0 = none. The worker kills the container when it passes. */
  timeoutMs: number;
  /** Extra repositories for the container (a group's own repo, issue 4). */
  extraAptSources?: ExtraAptSource[];
  /**
   * The build gets HTTP(S) through the worker's checked proxy (never the host, the farm or
   * the LAN); set only where the coordinator's `network_builds` let the submitter ask, and
   * run only by workers with `allow_network_builds` (others hand the job back).
   */
  network?: boolean;
  groupId?: string;
  /**
   * A sequential group's job (one per arch and round): the members to build in
   * this order on one host. The top-level fields repeat the first step's.
   */
  sequence?: SequenceStep[];
}

/** One member of a sequential group's job: its own job data, and the members (`<taskId>/<arch>`) it waits for. */
export type SequenceStep = Omit<BuildJobData, 'sequence'> & { after: string[] };

/** What a worker reports at the end of a build (`PUT /task/:id/result/:arch`), and the job's return value. */
export interface BuildJobResult {
  status: BuildStatus;
  reason?: string;
  /** Why it did not succeed, as a class (`disk-full`, `timeout`, ...); absent on success. */
  failureClass?: FailureClass;
  builder: string;
  /** The run and attempt reporting (fencing: another run or attempt is refused). */
  run: number;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  /** Uploaded artifacts (name, size, sha256); the coordinator checks them against what it received. */
  artifacts: Array<{ name: string; size: number; sha256: string }>;
  /** Milliseconds per pipeline phase, plus the worker's own `upload`. */
  phases: Partial<Record<BuildPhase | 'upload', number>>;
  resources?: ResourceSummary;
}
