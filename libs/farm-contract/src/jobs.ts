import { Type, type Static } from 'typebox';
import { Arch, IsoTime, OneOf, Sha256, TaskId } from './common.ts';
import { buildPhases, BuildStatus, ExtraAptSource, ResourceSummary } from './shared-types.ts';
import { failureClasses } from './states.ts';

const jobFields = {
  /** The coordinator's PROTOCOL_VERSION when it queued the job: a worker of another version hands the job back. */
  protocol: Type.Integer({ minimum: 1 }),
  taskId: TaskId,
  arch: Arch,
  run: Type.Integer({ minimum: 1 }),
  /** Every arch of the task: the state scripts derive the task's state from all of them. */
  taskArchs: Type.Array(Arch),
  branch: Type.String(),
  package: Type.Object({ name: Type.String(), version: Type.String(), noarch: Type.Boolean() }),
  /** sha256 of the bundle archive; the worker checks what it downloads against it. */
  bundleSha256: Sha256,
  bundleSize: Type.Integer({ minimum: 0 }),
  /** Per-job timeout (ms); 0 = none. The worker kills the container when it passes. */
  timeoutMs: Type.Integer({ minimum: 0 }),
  /** Extra repositories for the container (a group's own repo). */
  extraAptSources: Type.Optional(Type.Array(ExtraAptSource)),
  /**
   * The build gets HTTP(S) through the worker's checked proxy (never the host, the farm or the
   * LAN): set only when the coordinator's `network_builds` let the submitter ask; run only by a
   * worker with `allow_network_builds` (another hands the job back unstarted).
   */
  network: Type.Optional(Type.Boolean()),
  groupId: Type.Optional(Type.String()),
};

/** One member of a sequential group's job: its own job data, and the members (`<taskId>/<arch>`) it waits for. */
export const SequenceStep = Type.Object({ ...jobFields, after: Type.Array(Type.String()) });
export type SequenceStep = Static<typeof SequenceStep>;

/** Payload of a job on `build-<arch>`. Everything a worker needs; it reads nothing else to start. */
export const BuildJobData = Type.Object({
  ...jobFields,
  /**
   * A sequential group's job (one per arch and round): the members to build in
   * this order on one host. The top-level fields repeat the first step's.
   */
  sequence: Type.Optional(Type.Array(SequenceStep)),
});
export type BuildJobData = Static<typeof BuildJobData>;

export const ArtifactDigest = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  sha256: Sha256,
});

/** What a worker reports at the end of a build (`PUT /task/:id/result/:arch`), and the job's return value. */
export const BuildJobResult = Type.Object({
  status: BuildStatus,
  reason: Type.Optional(Type.String()),
  /** Why it did not succeed, as a class (`disk-full`, `timeout`, ...); absent on success. */
  failureClass: Type.Optional(OneOf(failureClasses)),
  builder: Type.String(),
  /** The run and attempt reporting (fencing: another run or attempt is refused with 409 STALE_ATTEMPT). */
  run: Type.Integer({ minimum: 1 }),
  attempt: Type.Integer({ minimum: 0 }),
  startedAt: IsoTime,
  finishedAt: IsoTime,
  /** Uploaded artifacts (name, size, sha256); the coordinator checks them against what it received. */
  artifacts: Type.Array(ArtifactDigest),
  /** Milliseconds per pipeline phase, plus the worker's own `upload`. */
  phases: Type.Partial(Type.Record(Type.Enum([...buildPhases, 'upload']), Type.Number())),
  resources: Type.Optional(ResourceSummary),
  /** Milliseconds from the claim to the first line of the package's own build step (absent: it never began). */
  startupMs: Type.Optional(Type.Number({ minimum: 0 })),
});
export type BuildJobResult = Static<typeof BuildJobResult>;
