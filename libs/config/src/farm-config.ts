import path from 'node:path';
import { hostname } from 'node:os';
import { readRedis, type RedisConfig } from './redis-config.ts';
import { readSecret } from './secret-file.ts';
import type { TableReader } from './table-reader.ts';

/** `reader`: may only read (GET routes open to any token, and `/metrics`): what Prometheus or a dashboard uses. */
export type TokenRole = 'maintainer' | 'worker' | 'admin' | 'reader';

/** Who may scrape the coordinator's `/metrics`: any valid token (default), anyone, or nobody (no route). */
export type MetricsAccess = 'token' | 'public' | 'off';

/**
 * `[coordinator] network_builds`: who may ask for a build with a network (HTTP(S) through the
 * worker's checked proxy). `never` (default): nobody; `admin`: admin tokens and tokens marked
 * `network_builds = true`; `any-submitter`: every token that may submit.
 */
export type NetworkBuildsPolicy = 'never' | 'admin' | 'any-submitter';

export interface TokenConfig {
  name: string;
  role: TokenRole;
  /** `[[tokens]] network_builds`: this maintainer token may ask for a build network under the `"admin"` policy. */
  networkBuilds?: boolean;
  /** The secret itself, read from `file` (relative to the config folder) or `env`. */
  token: string;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface CoordinatorConfig {
  listen: ListenAddress;
  /** How workers and containers reach the coordinator; default `http://<listen>`. */
  publicUrl: string;
  /** Archs that have build queues; the host's own arch is always one. */
  archs: string[];
  /** Where noarch packages are built (AOSC builds them on amd64). */
  noarchArch: string;
  jobTimeoutMinutes: number;
  /** Finished jobs kept in Redis per queue; older ones are trimmed. */
  keepCompletedJobs: number;
  keepFailedJobs: number;
  maxBundleBytes: number;
  /** How often the coordinator looks for jobs of lost workers (their lock expired) and puts them back. */
  stalledIntervalSeconds: number;
  /** Times one job may come back from a lost worker before it fails. */
  maxStalledCount: number;
  /** Where uploaded bundles, logs and the output repository live; default `$work_dir/farm`. */
  storageDir: string;
  /** `[coordinator] metrics`: access to `GET /metrics`. */
  metrics: MetricsAccess;
  /** A group member's expected build time when no build of its package and arch is known (critical path). */
  groupDefaultBuildSeconds: number;
  /** An armored secret key that signs the repositories (e.g. AOSC's); absent = a farm key made in storage_dir. */
  signingKeyFile?: string;
  /** Newest versions kept per package and arch in each repository; 0 keeps every version. */
  repoKeepVersions: number;
  /** Linked from the dashboard when set. */
  grafanaUrl?: string;
  /** The built dashboard (index.html + assets) served at `/`; default: the repository's apps/dashboard/dist. */
  dashboardDir?: string;
  /** Live log followers (SSE) one token may hold at once; more answer 429. */
  logFollowersPerToken: number;
  /** TTL of the leases on background work (two coordinators): how soon one takes over a dead one's work. */
  leaseSeconds: number;
  /** How often every live build is reconciled with its job (by the coordinator holding the lease). */
  reconcileIntervalSeconds: number;
  /** Who may ask for a build with a network. */
  networkBuilds: NetworkBuildsPolicy;
  /**
   * How long a report's settle mark (Redis's clock) holds off a claim, requeue or failure of its attempt while
   * its debs are published: longer than the slowest publish, or a job re-queued meanwhile may build again.
   */
  settleSeconds: number;
}

/** What a worker does with its running builds on SIGTERM (`[worker] on_shutdown`, `--on-shutdown`). */
export const shutdownModes = ['requeue', 'finish'] as const;
export type ShutdownMode = (typeof shutdownModes)[number];

export interface WorkerConfig {
  id: string;
  archs: string[];
  slots: number;
  coordinatorUrl?: string;
  /** Worker token, from `token_file` or the file `AOINB_WORKER_TOKEN_FILE` names (never the secret itself). */
  token?: string;
  heartbeatSeconds: number;
  /** A running job's lock lasts this long and is renewed at half of it; a dead worker's job comes back after it. */
  lockSeconds: number;
  metricsListen?: ListenAddress;
  /** What SIGTERM does to running builds: hand them back to the queue, or finish them. */
  onShutdown: ShutdownMode;
  /** Below this much free space in the work dir (MiB) the worker takes no new jobs (0: never stops). */
  minFreeDiskMib: number;
  /** Cores and memory (GiB) this worker offers builds (placement by ENVREQ); 0 = what the host has, never more. */
  cores: number;
  memoryGib: number;
  /** Whether this host runs builds that asked for a network; others hand such jobs back. */
  allowNetworkBuilds: boolean;
  /** How long a job refused by a settling build (a report publishing) is put off before it is fetched again. */
  settlePutOffSeconds: number;
}

export interface FarmConfig {
  coordinator: CoordinatorConfig;
  redis: RedisConfig;
  worker: WorkerConfig;
  tokens: TokenConfig[];
}

/** The shortest settle mark `[coordinator] settle_seconds` takes. */
export const minSettleSeconds = 10;

const listenPattern = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export function parseListen(value: string): ListenAddress {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(value.slice(at + 1)) };
}

function optionalPath(value: string | undefined, configDir: string): string | undefined {
  return value === undefined ? undefined : path.resolve(configDir, value);
}

function readCoordinator(root: TableReader, arch: string, workDir: string, configDir: string): CoordinatorConfig {
  const t = root.section('coordinator');
  const listenText = t.string('listen', {
    default: '127.0.0.1:8460',
    pattern: listenPattern,
    hint: 'use "address:port"',
  });
  const listen = parseListen(listenText);
  const config: CoordinatorConfig = {
    listen,
    publicUrl: t
      .string('public_url', { default: `http://${listenText}`, pattern: /^https?:\/\//, hint: 'an http(s) URL' })
      .replace(/\/+$/, ''),
    archs: t.stringArray('archs', [arch]),
    noarchArch: t.string('noarch_arch', { default: 'amd64' }),
    jobTimeoutMinutes: t.integer('job_timeout_minutes', { default: 360, min: 1 }),
    keepCompletedJobs: t.integer('keep_completed_jobs', { default: 1000, min: 0 }),
    keepFailedJobs: t.integer('keep_failed_jobs', { default: 5000, min: 0 }),
    maxBundleBytes: t.integer('max_bundle_mib', { default: 64, min: 1 }) * 1024 * 1024,
    stalledIntervalSeconds: t.integer('stalled_interval_seconds', { default: 15, min: 1 }),
    maxStalledCount: t.integer('max_stalled_count', { default: 3, min: 1 }),
    storageDir: t.string('storage_dir', { default: path.join(workDir, 'farm') }),
    metrics: t.oneOf('metrics', ['token', 'public', 'off'] as const, 'token'),
    groupDefaultBuildSeconds: t.integer('group_default_build_seconds', { default: 600, min: 1, max: 30 * 24 * 3600 }),
    signingKeyFile: optionalPath(t.optionalString('signing_key_file'), configDir),
    repoKeepVersions: t.integer('repo_keep_versions', { default: 0, min: 0 }),
    grafanaUrl: t.optionalString('grafana_url', { pattern: /^https?:\/\/[^\s]+$/, hint: 'an http(s) URL' }),
    dashboardDir: optionalPath(t.optionalString('dashboard_dir'), configDir),
    logFollowersPerToken: t.integer('log_followers_per_token', { default: 32, min: 1, max: 10_000 }),
    leaseSeconds: t.integer('lease_seconds', { default: 30, min: 2, max: 3600 }),
    reconcileIntervalSeconds: t.integer('reconcile_interval_seconds', { default: 15, min: 1, max: 3600 }),
    networkBuilds: t.oneOf('network_builds', ['never', 'admin', 'any-submitter'] as const, 'never'),
    // Below this a mark could lapse inside an ordinary publish (the debs are hashed, linked and indexed).
    settleSeconds: t.integer('settle_seconds', { default: 300, min: minSettleSeconds, max: 24 * 3600 }),
  };
  if (!config.archs.includes(arch)) config.archs.push(arch);
  if (!config.archs.includes(config.noarchArch)) config.archs.push(config.noarchArch);
  t.rejectUnknown();
  return config;
}

function readWorker(root: TableReader, arch: string, configDir: string): WorkerConfig {
  const t = root.section('worker');
  const tokenFile = t.optionalString('token_file') ?? process.env.AOINB_WORKER_TOKEN_FILE;
  const metrics = t.optionalString('metrics_listen', { pattern: listenPattern, hint: 'use "address:port"' });
  const worker: WorkerConfig = {
    id: t.string('id', { default: hostname(), pattern: /^[A-Za-z0-9._-]+$/, hint: 'letters, digits, . _ -' }),
    archs: t.stringArray('archs', [arch]),
    slots: t.integer('slots', { default: 1, min: 1, max: 64 }),
    coordinatorUrl: t
      .optionalString('coordinator_url', { pattern: /^https?:\/\//, hint: 'an http(s) URL' })
      ?.replace(/\/+$/, ''),
    token: tokenFile ? readSecret(t, 'token_file', tokenFile, configDir) : undefined,
    heartbeatSeconds: t.integer('heartbeat_seconds', { default: 5, min: 1 }),
    lockSeconds: t.integer('lock_seconds', { default: 30, min: 1 }),
    metricsListen: metrics ? parseListen(metrics) : undefined,
    onShutdown: t.oneOf('on_shutdown', shutdownModes, 'requeue'),
    minFreeDiskMib: t.integer('min_free_disk_mib', { default: 1024, min: 0 }),
    cores: t.integer('cores', { default: 0, min: 0, max: 100_000 }),
    memoryGib: t.number('memory_gib', { default: 0, min: 0 }),
    allowNetworkBuilds: t.boolean('allow_network_builds', false),
    // A put-off is how often the mark's end is looked for: under 0.1 s it is a busy loop of fetches.
    settlePutOffSeconds: t.number('settle_put_off_seconds', { default: 2, min: 0.1 }),
  };
  t.rejectUnknown();
  return worker;
}

function readTokens(root: TableReader, configDir: string, network: NetworkBuildsPolicy): TokenConfig[] {
  return root.tables('tokens').map((t) => {
    const name = t.string('name');
    const role = t.oneOf('role', ['maintainer', 'worker', 'admin', 'reader'] as const, 'maintainer');
    const networkBuilds = t.boolean('network_builds', false);
    // A flag that changes nothing is a misunderstanding worth reporting, not ignoring.
    if (networkBuilds && role !== 'maintainer')
      t.problem('network_builds', `only a maintainer token can be marked (this one is ${role})`);
    else if (networkBuilds && network !== 'admin')
      t.problem('network_builds', `has no effect unless [coordinator] network_builds = "admin" (it is "${network}")`);
    const file = t.optionalString('file');
    const env = t.optionalString('env', { pattern: /^[A-Z_][A-Z0-9_]*$/, hint: 'an environment variable name' });
    let token = '';
    if (file) token = readSecret(t, 'file', file, configDir);
    else if (env) {
      token = process.env[env] ?? '';
      if (!token) t.problem('env', `environment variable ${env} is not set`);
    } else t.problem('file', 'is required (or env): tokens are never written in config.toml');
    t.rejectUnknown();
    return { name, role, token, ...(networkBuilds ? { networkBuilds } : {}) };
  });
}

/** The farm's sections of config.toml: [coordinator], [redis], [worker], [[tokens]]. */
export function readFarmConfig(root: TableReader, arch: string, workDir: string, configDir: string): FarmConfig {
  const coordinator = readCoordinator(root, arch, workDir, configDir);
  const redis = readRedis(root, configDir);
  const worker = readWorker(root, arch, configDir);
  // A put-off is a wait for the mark's end: one as long as the whole mark only delays the job past it.
  if (worker.settlePutOffSeconds >= coordinator.settleSeconds)
    root.problem(
      'worker.settle_put_off_seconds',
      `must be shorter than coordinator.settle_seconds (${coordinator.settleSeconds}), ` +
        `got ${worker.settlePutOffSeconds}`,
    );
  return {
    coordinator,
    redis,
    worker,
    tokens: readTokens(root, configDir, coordinator.networkBuilds),
  };
}
