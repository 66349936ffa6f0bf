import { mkdir, rm } from 'node:fs/promises';
import type { RedisOptions } from 'ioredis';
import type { AoinbConfig, ListenAddress } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { closeRedis, connectRedis, farmNames, FarmStore, redisOptions } from '@aoinb/farm-protocol';
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
import { startPruner } from './retention/pruner.ts';
import { Dispatcher } from './services/dispatcher.ts';
import { startRecovery } from './services/recovery.ts';
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
  /** How often every live build is reconciled with its job (ms). */
  reconcileIntervalMs?: number;
  /** How often the farm identity in Redis is checked against the disk's (ms; changing requests check it too). */
  identityCheckIntervalMs?: number;
  /** What `aoinb_groups{state}` counts; default: the group records in Redis. */
  groupCounts?: GroupStateSource;
}

export interface Coordinator {
  /** Where the API listens, e.g. `http://127.0.0.1:8460`. */
  url: string;
  context: CoordinatorContext;
  close(): Promise<void>;
}

/** Starts the API, the queues, the stalled-job checkers and the reconcile loop. */
export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const { config } = options;
  const logger = options.logger.child({ component: 'coordinator' });
  const connection = options.redis ?? redisOptions(config.farm.redis);
  const redis = connectRedis(failFastRedisOptions(connection), logger, 'coordinator');
  await waitForRedisReady(redis, 60_000);
  const coordinator = config.farm.coordinator;
  const keys = farmNames(config.farm.redis.prefix);
  const layout = storageLayout(coordinator.storageDir);
  await mkdir(coordinator.storageDir, { recursive: true });
  const identity = await FarmIdentityGuard.open(redis, coordinator.storageDir, logger, keys);
  const identityWatch = new AbortController();
  const identityLoop = identity.watch(identityWatch.signal, options.identityCheckIntervalMs ?? 2000);
  await rm(layout.tmpDir, { recursive: true, force: true });
  await mkdir(layout.tmpDir, { recursive: true });
  const dispatcher = new Dispatcher(
    connection,
    coordinator.archs,
    { keepCompletedJobs: coordinator.keepCompletedJobs, keepFailedJobs: coordinator.keepFailedJobs },
    keys.prefix,
  );
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
  const signer = await RepoSigner.open({ home: layout.signingHome, keyFile: coordinator.signingKeyFile, logger });
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
  const ctx: CoordinatorContext = {
    config,
    logger,
    redis,
    connection,
    keys,
    store,
    identity,
    logs,
    dispatcher,
    layout,
    repo,
    lifecycle: new BuildHooks(logger),
    groups: createGroupRuntime(
      redis,
      connection,
      layout,
      logger,
      { ...repoOptions, memo: repo.memo },
      { keys, allocateGroupId: identity.allocateGroupId },
    ),
    metrics,
  };
  // Group builds hook into the build services before recovery looks at any build.
  const groupFlow = startGroupFlow(ctx);
  const recovery = await startRecovery(ctx, options.reconcileIntervalMs);
  const notifier = startNotifier(ctx);
  const pruner = startPruner(ctx, config.retention);
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
        await logs.close();
        await app.close();
        await notifier.close();
        await pruner.close();
        await recovery.close();
        await groupFlow.close();
        await ctx.groups.close();
        await ctx.dispatcher.close();
        identityWatch.abort();
        await identityLoop;
        await identity.close();
        await closeRedis(redis);
        await signer.close();
      })()),
  };
}
