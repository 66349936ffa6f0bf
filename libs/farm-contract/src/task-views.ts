import { Type, type Static } from 'typebox';
import { Arch, IsoTime, Nullable, NextCursor, OneOf, Sha256, TaskId, Url } from './common.ts';
import { buildStates, failureClasses, taskStates } from './states.ts';

const PackageRef = Type.Object(
  { name: Type.String(), version: Type.String(), noarch: Type.Boolean() },
  { additionalProperties: false },
);

/** One task in `GET /task`, and the head of its status. */
const taskSummaryFields = {
  id: TaskId,
  state: OneOf(taskStates),
  branch: Nullable(Type.String()),
  package: Nullable(PackageRef),
  archs: Type.Array(Arch),
  created_by: Type.String({ description: 'name of the token that created the task' }),
  created_at: IsoTime,
  updated_at: IsoTime,
  finished_at: Nullable(IsoTime),
  group_id: Nullable(Type.String()),
  network: Type.Boolean({ description: "the builds have HTTP(S) through the worker's checked proxy (asked for)" }),
};
export const TaskSummary = Type.Object(taskSummaryFields, { additionalProperties: false });
export type TaskSummary = Static<typeof TaskSummary>;

export const ArtifactView = Type.Object(
  {
    name: Type.String(),
    size: Type.Integer(),
    sha256: Sha256,
    url: Url,
    repo_url: Nullable(Url),
  },
  { additionalProperties: false },
);
export type ArtifactView = Static<typeof ArtifactView>;

export const ResourceSampleView = Type.Object(
  {
    at_ms: Type.Number(),
    cpu_seconds: Type.Number(),
    cpu_cores: Type.Number(),
    memory_bytes: Type.Number(),
    disk_bytes: Type.Number(),
  },
  { additionalProperties: false },
);
export type ResourceSampleView = Static<typeof ResourceSampleView>;

/** A build's resource use: totals, peaks, CPU as cores, and the downsampled series ready to chart. */
export const ResourceView = Type.Object(
  {
    cpu_seconds: Type.Number(),
    avg_cpu_cores: Nullable(Type.Number()),
    peak_cpu_cores: Nullable(Type.Number()),
    peak_memory_bytes: Type.Number(),
    peak_disk_bytes: Type.Number(),
    method: Type.String(),
    samples: Type.Array(ResourceSampleView),
  },
  { additionalProperties: false },
);
export type ResourceView = Static<typeof ResourceView>;

/** What a host needs to take a build (ENVREQ and the learned requirement, the larger of each; docs/placement.md). */
export const NeedsView = Type.Object(
  {
    cores: Nullable(Type.Integer()),
    memory_bytes: Nullable(Type.Number()),
    memory_per_core_bytes: Nullable(Type.Number()),
    disk_bytes: Nullable(Type.Number({ description: 'free disk in the work dir at the claim' })),
    network: Type.Boolean({ description: 'a build network: only a builder with [worker] allow_network_builds' }),
    summary: Type.String({ description: 'as people read it, e.g. `8 cores, 16 GiB`' }),
  },
  { additionalProperties: false },
);
export type NeedsView = Static<typeof NeedsView>;

/** What earlier successful builds of the package on the arch used: peaks with headroom, medians of CPU and time. */
export const LearnedView = Type.Object(
  {
    memory_bytes: Type.Number(),
    disk_bytes: Type.Number(),
    cpu_seconds: Type.Number(),
    seconds: Type.Number(),
    builds: Type.Integer({ description: 'how many earlier builds it comes from' }),
  },
  { additionalProperties: false },
);
export type LearnedView = Static<typeof LearnedView>;

/** One arch of a task (its current run). */
export const JobView = Type.Object(
  {
    arch: Arch,
    state: OneOf(buildStates),
    run: Type.Integer(),
    job_id: Type.String(),
    builder: Nullable(Type.String()),
    attempt: Type.Integer(),
    cancel_requested: Type.Boolean(),
    queued_at: IsoTime,
    started_at: Nullable(IsoTime),
    finished_at: Nullable(IsoTime),
    reason: Nullable(Type.String()),
    failure_class: Nullable(
      OneOf(failureClasses, { description: 'why it did not succeed, as a class (disk-full, timeout, ...)' }),
    ),
    log_url: Url,
    artifacts: Type.Array(ArtifactView),
    phases_ms: Type.Record(Type.String(), Type.Number()),
    resources: Nullable(ResourceView),
    needs: Nullable(NeedsView),
    learned: Nullable(LearnedView),
    startup_ms: Nullable(
      Type.Number({ description: "from the claim to the first line of the package's own build step" }),
    ),
  },
  { additionalProperties: false },
);
export type JobView = Static<typeof JobView>;

/** `GET /task/:id/status`. */
export const TaskStatus = Type.Object(
  {
    ...taskSummaryFields,
    bundle: Nullable(
      Type.Object(
        { sha256: Sha256, size: Type.Integer(), uploaded_at: IsoTime, targets: Type.Array(Arch) },
        { additionalProperties: false },
      ),
    ),
    timeout_seconds: Nullable(Type.Integer()),
    reason: Nullable(Type.String({ description: 'why archs failed, `<arch>: <reason>` joined by `; `' })),
    log_url: Url,
    repo_url: Nullable(Url),
    jobs: Type.Array(JobView),
  },
  { additionalProperties: false },
);
export type TaskStatus = Static<typeof TaskStatus>;

export const TaskList = Type.Object(
  { tasks: Type.Array(TaskSummary), next: NextCursor },
  { additionalProperties: false },
);
export type TaskList = Static<typeof TaskList>;
