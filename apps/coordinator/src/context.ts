import type { AoinbConfig, TokenRole } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import type { FarmKeys, FarmStore, RedisClient, FarmConnection } from '@aoinb/farm-protocol';
import type { BuildHooks } from './build-lifecycle.ts';
import type { GroupRuntime } from './groups/group-runtime.ts';
import type { LogFanout } from './http/log-fanout.ts';
import type { CoordinatorMetrics } from './metrics/coordinator-metrics.ts';
import type { FarmIdentityGuard } from './resilience/farm-identity-guard.ts';
import type { AptRepo } from './repo/apt-repo.ts';
import type { BackgroundWork } from './services/background-work.ts';
import type { Dispatcher } from './services/dispatcher.ts';
import type { CoordinatorLeases } from './services/lease-keeper.ts';
import type { StorageLayout } from './storage/storage-layout.ts';

/** Everything a route or service of the coordinator needs, passed in (no globals). */
export interface CoordinatorContext {
  config: AoinbConfig;
  logger: Logger;
  /** Shared connection for ordinary commands. */
  redis: RedisClient;
  /** Options for dedicated connections (blocking reads for live logs). */
  connection: FarmConnection;
  /** The farm's Redis key names, under its `[redis] prefix`. */
  keys: FarmKeys;
  store: FarmStore;
  /** The farm identity this coordinator holds Redis to (changing requests are refused while it is wrong). */
  identity: FarmIdentityGuard;
  dispatcher: Dispatcher;
  layout: StorageLayout;
  repo: AptRepo;
  /** The build services call these at each step of a build's life; layers over builds (groups) register there. */
  lifecycle: BuildHooks;
  /** Group builds: records, per-group repositories, flows, per-group lock. */
  groups: GroupRuntime;
  /** Live log streams: one shared Redis reader per followed log, a cap per token. */
  logs: LogFanout;
  /** The Prometheus registry of this coordinator and what feeds it (`GET /metrics`). */
  metrics: CoordinatorMetrics;
  /** The leases of work one coordinator at a time may run (reconcile, retention, notifications). */
  leases: CoordinatorLeases;
  /** Work started and not waited for (log archives): a stop waits for it before it closes Redis. */
  background: BackgroundWork;
}

/** Who made a request: the token's name and role. */
export interface Principal {
  name: string;
  role: TokenRole;
  /** `[[tokens]] network_builds = true`: may ask for a build network under `network_builds = "admin"`. */
  networkBuilds?: boolean;
}
