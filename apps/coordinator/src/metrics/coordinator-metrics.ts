import { farmKeys, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';
import { Gauge, type Registry } from 'prom-client';
import type { MetricsAccess } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { createCollectGuard, createMetricsRegistry, withDeadline } from '@aoinb/metrics';
import type { Dispatcher } from '../services/dispatcher.ts';
import { registerBuildEventMetrics } from './build-event-metrics.ts';
import { registerBuilderMetrics } from './builder-metrics.ts';
import { redisGroupStateSource, registerGroupMetrics, type GroupStateSource } from './group-metrics.ts';
import { createHttpMetrics, type HttpMetrics } from './http-metrics.ts';
import { registerActiveBuildMetrics, registerQueueMetrics } from './queue-metrics.ts';
import { registerRedisMetrics } from './redis-metrics.ts';

export interface CoordinatorMetricsDeps {
  redis: RedisClient;
  dispatcher: Dispatcher;
  logger: Logger;
  /** Who may read `/metrics` (`[coordinator] metrics`). */
  access: MetricsAccess;
  version: string;
  /** Group counts; default: the group records in Redis. */
  groupCounts?: GroupStateSource;
  /** The farm's key names (`[redis] prefix`); default `{aoinb}`. */
  keys?: FarmKeys;
  /** Deadline of each scrape-time collector (Redis reads); default 2 s. */
  collectTimeoutMs?: number;
}

/** The coordinator's Prometheus registry and what feeds it; one per coordinator instance. */
export interface CoordinatorMetrics {
  registry: Registry;
  access: MetricsAccess;
  http: HttpMetrics;
  /** Marks where the event stream ends now: builds finished from here on are counted. */
  start(): Promise<void>;
}

/**
 * Every coordinator series. Gauges are read at scrape time (BullMQ counts,
 * the builder registry, Redis, groups); counters and histograms of builds come
 * from the farm's event stream, read at scrape time too; HTTP metrics from
 * Fastify hooks. No label carries a task or job id.
 */
export function createCoordinatorMetrics(deps: CoordinatorMetricsDeps): CoordinatorMetrics {
  const registry = createMetricsRegistry();
  const guard = createCollectGuard({
    registry,
    prefix: 'aoinb',
    logger: deps.logger,
    timeoutMs: deps.collectTimeoutMs,
  });
  const archs = deps.dispatcher.archs;
  new Gauge({
    name: 'aoinb_coordinator_info',
    help: 'Always 1; labels: the coordinator version',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version: deps.version }, 1);
  registerQueueMetrics(registry, deps.dispatcher, guard);
  const keys = deps.keys ?? farmKeys;
  registerActiveBuildMetrics(registry, deps.redis, archs, guard, keys);
  const events = registerBuildEventMetrics(registry, deps.redis, archs, guard, keys);
  registerBuilderMetrics(registry, deps.redis, archs, guard, keys);
  registerGroupMetrics(registry, deps.groupCounts ?? redisGroupStateSource(deps.redis, keys), guard);
  registerRedisMetrics(registry, deps.redis, guard, keys.prefix);
  const http = createHttpMetrics(registry);
  return {
    registry,
    access: deps.access,
    http,
    async start() {
      // Redis may be down at start: the reader then starts at its first scrape.
      await withDeadline(events.start(), 2000, 'reading the event stream').catch((error: Error) =>
        deps.logger.warn({ err: error.message }, 'metrics: event stream not reachable yet'),
      );
    },
  };
}
