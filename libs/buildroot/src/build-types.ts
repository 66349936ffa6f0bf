/**
 * The contract of one build on one host: what the single-host `aoinb build`
 * command and the farm's worker agent both hand to the pipeline, and what they
 * get back. A failed build is a result (`status: 'failed'`), never an exception;
 * exceptions are reserved for a host that cannot build at all.
 */
import type {
  BuildPhase,
  BuildStatus,
  ExtraAptSource,
  FailureClass,
  ResourceSample,
  ResourceSummary,
} from '@aoinb/farm-contract';

// What a build reports is shared with the farm: declared once,
// in the contract (libs/farm-contract/src/shared-types.ts).
export type { BuildPhase, BuildStatus, ExtraAptSource, ResourceSample, ResourceSummary };

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
