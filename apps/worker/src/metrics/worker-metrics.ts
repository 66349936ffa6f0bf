import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@aoinb/logging';
import { createCollectGuard, createMetricsRegistry } from '@aoinb/metrics';
import type { BuildObserver } from './build-observer.ts';
import { registerHostMetrics } from './host-metrics.ts';
import { createBuildMetrics } from './live-builds.ts';

export interface WorkerMetricsOptions {
  builderId: string;
  archs: string[];
  slots: number;
  workDir: string;
  executor: string;
  version: string;
  logger: Logger;
}

/** The worker's Prometheus registry and the observer the job runner feeds; one per agent. */
export interface WorkerMetrics {
  registry: Registry;
  observer: BuildObserver;
}

export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const registry = createMetricsRegistry();
  const guard = createCollectGuard({ registry, prefix: 'aoinb_worker', logger: options.logger });
  new Gauge({
    name: 'aoinb_worker_info',
    help: 'Always 1; labels: builder id, arch tags, executor and agent version',
    labelNames: ['builder', 'archs', 'executor', 'version'],
    registers: [registry],
  }).set(
    {
      builder: options.builderId,
      archs: options.archs.join(','),
      executor: options.executor,
      version: options.version,
    },
    1,
  );
  new Gauge({
    name: 'aoinb_worker_slots',
    help: 'Builds this host runs at once (worker.slots)',
    registers: [registry],
  }).set(options.slots);
  registerHostMetrics(registry, options.workDir, guard);
  const observer = createBuildMetrics(registry, options.archs);
  return { registry, observer };
}
