import type { AoinbConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { agentVersion } from '../heartbeat.ts';
import type { BuildObserver } from './build-observer.ts';
import { startMetricsServer } from './metrics-server.ts';
import { createWorkerMetrics } from './worker-metrics.ts';

export interface RunningWorkerMetrics {
  /** Undefined when `[worker] metrics_listen` is not set: nothing is measured. */
  observer?: BuildObserver;
  url?: string;
  close(): Promise<void>;
}

/** The worker's registry and its `/metrics` server, when `[worker] metrics_listen` is set. */
export async function startWorkerMetrics(
  config: AoinbConfig,
  executor: string,
  logger: Logger,
): Promise<RunningWorkerMetrics> {
  const settings = config.farm.worker;
  if (!settings.metricsListen) return { close: async () => undefined };
  const metrics = createWorkerMetrics({
    builderId: settings.id,
    archs: settings.archs,
    slots: settings.slots,
    workDir: config.workDir,
    executor,
    version: agentVersion,
    logger,
  });
  const server = await startMetricsServer(metrics.registry, settings.metricsListen, logger);
  return { observer: metrics.observer, url: server.url, close: () => server.close() };
}
