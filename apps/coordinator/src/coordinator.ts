import { mkdir } from 'node:fs/promises';
import type { RedisOptions } from 'ioredis';
import { withLock } from '@aoinb/buildroot';
import type { AoinbConfig, ListenAddress } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { closeRedis, connectRedis, farmNames, FarmStore, LeaseStore, redisOptions } from '@aoinb/farm-protocol';
import { BuildHooks } from './build-lifecycle.ts';
import type { CoordinatorContext } from './context.ts';
import { startGroupFlow } from './groups/group-flow.ts';
import { LogFanout } from './http/log-fanout.ts';
import { createGroupRuntime } from './groups/group-runtime.ts';
import { buildServer } from './http/server.ts';
import { startNotifier } from './notify/notify-service.ts';
import { createCoordinatorMetrics } from './metrics/coordinator-metrics.ts';
import { FarmIdentityGuard } from './resilience/farm-identity-guard.ts';
import { registerIdentityMetric } from './resilience/identity-http.ts';
import { failFastRedisOptions, waitForRedisReady } from './resilience/redis-fail-fast.ts';
import type { GroupStateSource } from './metrics/group-metrics.ts';
import { AptRepo } from './repo/apt-repo.ts';
import { RepoSigner } from './repo/repo-signer.ts';
import { placementLifecycle } from './placement/placement-lifecycle.ts';
import { startPlacementLoop } from './placement/placement-loop.ts';
import { startPruner } from './retention/pruner.ts';
import { BackgroundWork } from './services/background-work.ts';
import { Dispatcher } from './services/dispatcher.ts';
import { coordinatorInstanceId, CoordinatorLeases } from './services/lease-keeper.ts';
import { startRecovery } from './services/recovery.ts';
import { openInstanceTmp } from './storage/instance-tmp.ts';
import { storageLayout } from './storage/storage-layout.ts';

/** Reported by `aoinb_coordinator_info{version}`. */
export const coordinatorVersion = '0.1.0';

export interface CoordinatorOptions {
  config: AoinbConfig;
  logger: Logger;
  /** Defaults to the config's `[redis]`. */
  redis?: RedisOptions;
  /** Defaults to `coordinator.listen`. */
  listen?: ListenAddress;
  /** How often every live build is reconciled with its job (ms); default `reconcile_interval_seconds`. */
  reconcileIntervalMs?: number;
  /** How often the farm identity in Redis is checked against the disk's (ms; changing requests check it too). */
  identityCheckIntervalMs?: number;
  /** How often queued builds' placement is looked at: waiting reasons, handed-back jobs promoted (ms). */
  placementIntervalMs?: number;
  /** What `aoinb_groups{state}` counts; default: the group records in Redis. */
  groupCounts?: GroupStateSource;
}

export interface Coordinator {
  /** Where the API listens, e.g. `http://127.0.0.1:8460`. */
  url: string;
  context: CoordinatorContext;
  close(): Promise<void>;
}

/** Redis, ready, and the farm identity guard watching it. */
async function openFarm(options: CoordinatorOptions, logger: Logger) {
  const { config } = options;
  const connection = options.redis ?? redisOptions(config.farm.redis);
  // Auto-pipelining: the commands of all the requests in one event-loop turn go out in one write
  // (a socket write per command was the most of the coordinator's Redis cost under load, docs/benchmarks.md).
  const redis = connectRedis(failFastRedisOptions(connection), logger, 'coordinator', { enableAutoPipelining: true });
  await waitForRedisReady(redis, 60_000);
  const keys = farmNames(config.farm.redis.prefix);
  await mkdir(config.farm.coordinator.storageDir, { recursive: true });
  const identity = await FarmIdentityGuard.open(redis, config.farm.coordinator.storageDir, logger, keys);
  const identityWatch = new AbortController();
  const identityLoop = identity.watch(identityWatch.signal, options.identityCheckIntervalMs ?? 2000);
  const stopIdentity = async (): Promise<void> => {
    identityWatch.abort();
    await identityLoop;
    await identity.close();
  };
  return { connection, redis, keys, identity, stopIdentity };
}

type Farm = Awaited<ReturnType<typeof openFarm>>;

/** This coordinator's own upload folder, its leases, the queues, the metrics and the repository signer. */
async function openServices(options: CoordinatorOptions, logger: Logger, farm: Farm) {
  const coordinator = options.config.farm.coordinator;
  const { redis, keys, identity } = farm;
  // Another coordinator may share the storage: uploads in progress go to a folder of this one's own.
  const instance = coordinatorInstanceId();
  const tmp = await openInstanceTmp(storageLayout(coordinator.storageDir).tmpDir, instance, logger);
  const layout = { ...storageLayout(coordinator.storageDir), tmpDir: tmp.dir };
  const leaseMs = coordinator.leaseSeconds * 1000;
  const leases = new CoordinatorLeases(
    new LeaseStore(redis, keys.prefix),
    instance,
    leaseMs,
    logger.child({ component: 'leases' }),
  );
  const keep = { keepCompletedJobs: coordinator.keepCompletedJobs, keepFailedJobs: coordinator.keepFailedJobs };
  const dispatcher = new Dispatcher(farm.connection, coordinator.archs, keep, keys.prefix);
  const metrics = createCoordinatorMetrics({
    redis,
    keys,
    dispatcher,
    logger,
    access: coordinator.metrics,
    version: coordinatorVersion,
    groupCounts: options.groupCounts,
  });
  registerIdentityMetric(metrics.registry, identity);
  await metrics.start();
  // Under an flock: two coordinators starting on fresh shared storage make one key, not two.
  const signer = await withLock(`${layout.signingHome}.lock`, 'exclusive', () =>
    RepoSigner.open({ home: layout.signingHome, keyFile: coordinator.signingKeyFile, logger }),
  );
  return { tmp, layout, leases, dispatcher, metrics, signer };
}

/** What every route and service is handed. */
function contextOf(
  options: CoordinatorOptions,
  logger: Logger,
  farm: Farm,
  services: Awaited<ReturnType<typeof openServices>>,
) {
  const coordinator = options.config.farm.coordinator;
  const { redis, connection, keys, identity } = farm;
  const { layout, signer } = services;
  const repoOptions = { signer, keepVersions: coordinator.repoKeepVersions };
  const repo = new AptRepo(layout, logger, repoOptions);
  const store = new FarmStore(redis, keys, identity.allocateTaskId);
  const logs = new LogFanout({
    redis,
    connection,
    logger,
    getBuild: async (taskId, arch) => store.getBuild(taskId, arch),
    perToken: coordinator.logFollowersPerToken,
  });
  const groupIds = { keys, allocateGroupId: identity.allocateGroupId };
  const ctx: CoordinatorContext = {
    config: options.config,
    logger,
    redis,
    connection,
    keys,
    store,
    identity,
    logs,
    dispatcher: services.dispatcher,
    layout,
    repo,
    lifecycle: new BuildHooks(logger),
    groups: createGroupRuntime(redis, connection, layout, logger, { ...repoOptions, memo: repo.memo }, groupIds),
    metrics: services.metrics,
    leases: services.leases,
    background: new BackgroundWork(logger),
  };
  return ctx;
}

/** The long-lived loops, in the order they must start; `close` stops them in the order they must stop. */
async function startLoops(ctx: CoordinatorContext, options: CoordinatorOptions) {
  const coordinator = ctx.config.farm.coordinator;
  // Group builds hook into the build services before recovery looks at any build.
  const groupFlow = startGroupFlow(ctx);
  const recovery = await startRecovery(ctx, options.reconcileIntervalMs ?? coordinator.reconcileIntervalSeconds * 1000);
  ctx.lifecycle.register(placementLifecycle(ctx));
  const placement = startPlacementLoop(ctx, options.placementIntervalMs);
  const notifier = startNotifier(ctx);
  const pruner = startPruner(ctx, ctx.config.retention);
  return {
    close: async (): Promise<void> => {
      await notifier.close();
      await pruner.close();
      await placement.close();
      await recovery.close();
      await groupFlow.close();
    },
  };
}

/** How long a stop waits for background work (a log archive is seconds; what is cut short is redone at start). */
const stopDrainMs = 10_000;

/** Starts the API, the queues, the stalled-job checkers and the reconcile loop. */
export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const coordinator = options.config.farm.coordinator;
  const logger = options.logger.child({ component: 'coordinator' });
  const farm = await openFarm(options, logger);
  const services = await openServices(options, logger, farm);
  const ctx = contextOf(options, logger, farm, services);
  const loops = await startLoops(ctx, options);
  const app = await buildServer(ctx);
  const listen = options.listen ?? coordinator.listen;
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const url = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
  logger.info({ url, archs: coordinator.archs }, 'coordinator listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    context: ctx,
    close: () =>
      (closing ??= (async () => {
        await ctx.logs.close();
        await app.close();
        await loops.close();
        // Nothing starts background work now (no requests, no loops): let the archives under way end.
        await ctx.background.drain(stopDrainMs);
        await ctx.leases.close();
        await ctx.groups.close();
        await ctx.dispatcher.close();
        await farm.stopIdentity();
        await closeRedis(farm.redis);
        await services.signer.close();
        await services.tmp.close();
      })()),
  };
}
