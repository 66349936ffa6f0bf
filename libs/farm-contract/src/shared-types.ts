import { Type, type Static } from 'typebox';
import { OneOf } from './common.ts';

/** What one build ends as (the single-host `aoinb build` and the farm agree). A failure is a result. */
export const BuildStatus = OneOf(['succeeded', 'failed', 'cancelled']);
export type BuildStatus = Static<typeof BuildStatus>;

export const buildPhases = [
  'prepare',
  'instance_refresh',
  'mount',
  'source_fetch',
  'dependencies',
  'build',
  'collect',
  'discard',
] as const;
export const BuildPhase = OneOf(buildPhases);
export type BuildPhase = (typeof buildPhases)[number];

/** An extra apt repository enabled inside the build container (a group's fresh debs). */
export const ExtraAptSource = Type.Object({
  /** File stem under /etc/apt/sources.list.d/, e.g. `aoinb-group-42`. */
  name: Type.String(),
  /**
   * One-line sources.list entry, e.g. `deb [signed-by=/etc/apt/keyrings/aoinb-group-42.asc]
   * http://10.0.0.1:8460/group/42/repo ./`.
   */
  line: Type.String(),
  /** The repository's armored public key, written to `/etc/apt/keyrings/<name>.asc` (the `signed-by=` of the line). */
  key: Type.Optional(Type.String()),
  /** apt pin priority for the repository; > 500 wins over the branch. */
  pinPriority: Type.Optional(Type.Integer()),
  /** What the pin matches (an apt_preferences `Pin:` value); default `origin "<host of the line's URL>"`. */
  pin: Type.Optional(Type.String()),
});
export type ExtraAptSource = Static<typeof ExtraAptSource>;

export const ResourceSample = Type.Object({
  /** Milliseconds since the build phase started. */
  atMs: Type.Number(),
  /** CPU time of the whole container process tree so far, seconds. */
  cpuSeconds: Type.Number(),
  memoryBytes: Type.Number(),
  diskBytes: Type.Number(),
});
export type ResourceSample = Static<typeof ResourceSample>;

export const ResourceSummary = Type.Object({
  cpuSeconds: Type.Number(),
  peakMemoryBytes: Type.Number(),
  peakDiskBytes: Type.Number(),
  /** How CPU and memory were measured: a cgroup of our own, or walking /proc. */
  method: OneOf(['cgroup-v2', 'cgroup-v1', 'procfs']),
  /** Downsampled time series (at most ~120 points). */
  samples: Type.Array(ResourceSample),
});
export type ResourceSummary = Static<typeof ResourceSummary>;
