/** One token per role; each process's config lists them all as `[[tokens]]` named `<role>-user`. */
export const farmTokens = {
  reader: 'reader-token-0123456789',
  maintainer: 'maintainer-token-0123456789',
  worker: 'worker-token-0123456789',
  admin: 'admin-token-0123456789',
} as const;

export interface FarmOptions {
  /** Archs with build queues. */
  archs: string[];
  noarchArch?: string;
  maxBundleMib?: number;
  stalledIntervalSeconds?: number;
  /** `[coordinator] max_stalled_count`: times a job may come back from a lost worker before it fails. */
  maxStalledCount?: number;
  /** TOML appended to every config (e.g. [build] settings). */
  extraToml?: string;
  /** Branch -> sources.list text; default: `stable` with an unreachable mirror (enough for the fake executor). */
  sourceLists?: Record<string, string>;
  /** `[build] source_allow` entries for workers that fetch sources from loopback servers. */
  sourceAllow?: string[];
  logLevel?: string;
  /** `[redis] prefix` of every process (default `{aoinb}`): farms apart by prefix. */
  redisPrefix?: string;
  /** Run on a real 3-master Redis Cluster (`[redis] cluster`) instead of one redis-server. */
  redisCluster?: boolean;
  /** `[coordinator] public_url` (e.g. a balancer in front of two coordinators); default: the coordinator's listen. */
  publicUrl?: string;
  /** `[coordinator] lease_seconds` and `reconcile_interval_seconds`. */
  leaseSeconds?: number;
  reconcileIntervalSeconds?: number;
  /** Extra `node` flags for the coordinator process only (e.g. `--cpu-prof` in the scale benchmark). */
  coordinatorNodeArgs?: string[];
  /** `[coordinator] dashboard_dir`: the dashboard build the coordinator serves (default: apps/dashboard/dist). */
  dashboardDir?: string;
  /** `[coordinator] network_builds` (default: the config's, `never`). */
  networkBuilds?: 'never' | 'admin' | 'any-submitter';
  /** `[coordinator] settle_seconds`: how long a report's settle mark lasts (default: the config's, 300). */
  settleSeconds?: number;
}

export interface WorkerOptions {
  id: string;
  archs: string[];
  slots?: number;
  lockSeconds?: number;
  heartbeatSeconds?: number;
  onShutdown?: 'requeue' | 'finish';
  /** `fake` (default) or `nspawn`: the real pipeline (then `workDir` should hold a loaded base OS). */
  executor?: 'fake' | 'nspawn';
  /** The worker's work_dir; default: its own folder under the farm root. */
  workDir?: string;
  fakeDurationMs?: number;
  /** `[worker] metrics_listen`, e.g. `127.0.0.1:9464`: the worker serves /metrics there. */
  metricsListen?: string;
  /** `[worker] min_free_disk_mib` (default: the config's). */
  minFreeDiskMib?: number;
  /** `[worker] cores` / `memory_gib`: what the worker offers builds (default: the host's). */
  cores?: number;
  memoryGib?: number;
  /** `[worker] allow_network_builds`. */
  allowNetworkBuilds?: boolean;
}
