/**
 * The contract of one build on one host: what the single-host `aoinb build`
 * command and the farm's worker agent both hand to the pipeline, and what they
 * get back. A failed build is a result (`status: 'failed'`), never an exception;
 * exceptions are reserved for a host that cannot build at all.
 */
import type { FailureClass } from '@aoinb/errors';

export type BuildStatus = 'succeeded' | 'failed' | 'cancelled';

export type BuildPhase =
  'prepare' | 'instance_refresh' | 'mount' | 'source_fetch' | 'dependencies' | 'build' | 'collect' | 'discard';

/** An extra apt repository enabled inside the build container (a group's fresh debs). */
export interface ExtraAptSource {
  /** File stem under /etc/apt/sources.list.d/, e.g. `aoinb-group-42`. */
  name: string;
  /**
   * One-line sources.list entry, e.g.
   * `deb [signed-by=/etc/apt/keyrings/aoinb-group-42.asc] http://10.0.0.1:8460/group/42/repo ./`.
   */
  line: string;
  /** The repository's armored public key, written to `/etc/apt/keyrings/<name>.asc` (the `signed-by=` of the line). */
  key?: string;
  /** apt pin priority for the repository; > 500 wins over the branch. */
  pinPriority?: number;
  /**
   * What the pin matches (an apt_preferences `Pin:` value), e.g. `release n=aoinb-group-42`
   * (the repository's Release codename); default `origin "<host of the line's URL>"`.
   */
  pin?: string;
}

export interface BuildRequest {
  /** Unique per build on this host; names the workspace, log and record. `[a-z0-9-]` only. */
  buildId: string;
  /** Host folder holding `spec` and `autobuild/`. */
  bundleDir: string;
  branch: string;
  /** Target arch; defaults to the host's configured arch. */
  arch?: string;
  /** Where the `.deb`s and the build record go; default `$work_dir/output/<branch>/`. */
  outputDir?: string;
  extraAptSources?: ExtraAptSource[];
  /** Aborting kills the container; the result is then `cancelled`. */
  signal?: AbortSignal;
  /** Every line of build output, as it appears. */
  onLogLine?: (line: string) => void;
  /** Live resource samples, every `sample_interval_seconds`. */
  onSample?: (sample: ResourceSample) => void;
  /** Overrides `build.timeout_minutes`; 0 = no limit. */
  timeoutMs?: number;
  /**
   * An explicit opt-in (never from the bundle): the build gets HTTP(S) through the host's checked
   * proxy, still without the host, the farm or the LAN (network/build-network.ts).
   */
  network?: boolean;
}

export interface ResourceSample {
  /** Milliseconds since the build phase started. */
  atMs: number;
  /** CPU time of the whole container process tree so far, seconds. */
  cpuSeconds: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface ResourceSummary {
  cpuSeconds: number;
  peakMemoryBytes: number;
  peakDiskBytes: number;
  /** How CPU and memory were measured: a cgroup of our own, or walking /proc. */
  method: 'cgroup-v2' | 'cgroup-v1' | 'procfs';
  /** Downsampled time series (at most ~120 points). */
  samples: ResourceSample[];
}

export interface BuildArtifact {
  /** Absolute path of the `.deb` in the output folder. */
  file: string;
  name: string;
  size: number;
  sha256: string;
}

export interface BuildResult {
  buildId: string;
  status: BuildStatus;
  /** Why it failed or was cancelled, for people. */
  reason?: string;
  /** Why it failed, for dashboards and scripts (absent when it succeeded). */
  failureClass?: FailureClass;
  package: { name: string; version: string; arch: string };
  branch: string;
  artifacts: BuildArtifact[];
  logFile: string;
  recordFile: string;
  startedAt: string;
  finishedAt: string;
  /** Milliseconds spent in each phase. */
  phases: Partial<Record<BuildPhase, number>>;
  resources: ResourceSummary;
  /** Each source fetched for the build, and whether the host cache served it (absent when none were fetched). */
  sources?: FetchedSource[];
}

export interface FetchedSource {
  name: string;
  /** Served from the host's source cache without a download. */
  cached: boolean;
}
