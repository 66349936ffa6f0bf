import { Worker, type Processor } from 'bullmq';
import type { AoinbConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import {
  buildQueueName,
  buildWorkerOptions,
  type BuildJobData,
  type BuildJobResult,
  type FarmConnection,
} from '@aoinb/farm-protocol';

export type ArchQueueWorker = Worker<BuildJobData, BuildJobResult>;

export interface ArchQueueWorkerOptions {
  config: AoinbConfig;
  connection: FarmConnection;
  prefix: string;
  logger: Logger;
  process: Processor<BuildJobData, BuildJobResult>;
}

/**
 * The BullMQ worker of one of this host's arch tags, under the builder's id. It may run `worker.slots` jobs:
 * the agent starts one per arch tag and its slot gate shares the slots between them. The stalled-job checks
 * use the coordinator's settings (`stalled_interval_seconds`, `max_stalled_count`), as the coordinator's own do.
 */
export function archQueueWorker(arch: string, options: ArchQueueWorkerOptions): ArchQueueWorker {
  const { config, connection, prefix, logger, process } = options;
  const settings = config.farm.worker;
  const coordinator = config.farm.coordinator;
  const workerOptions = buildWorkerOptions(
    connection,
    {
      name: settings.id,
      concurrency: settings.slots,
      lockDurationMs: settings.lockSeconds * 1000,
      stalledIntervalMs: coordinator.stalledIntervalSeconds * 1000,
      maxStalledCount: coordinator.maxStalledCount,
    },
    prefix,
  );
  const w: ArchQueueWorker = new Worker(buildQueueName(arch), process, workerOptions);
  w.on('error', (error) => logger.warn({ err: error.message, arch }, 'queue worker error'));
  return w;
}
