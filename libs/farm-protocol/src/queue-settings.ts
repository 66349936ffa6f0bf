import type { ConnectionOptions, QueueOptions, WorkerOptions } from 'bullmq';
import { farmPrefix } from './names.ts';
import { queueConnection, type FarmConnection } from './redis-options.ts';

/** BullMQ's connection option for the farm's Redis (see queueConnection: a Queue's owner closes a cluster's). */
function asConnection(options: FarmConnection): ConnectionOptions {
  return queueConnection(options) as ConnectionOptions;
}

export interface RetentionSettings {
  keepCompletedJobs: number;
  keepFailedJobs: number;
}

/**
 * Options of a build queue (the coordinator adds jobs through it). One attempt:
 * a build that fails is final. A worker that disappears is a different matter:
 * its job is not failed but stalls, and the stalled checker puts it back.
 */
export function buildQueueOptions(
  connection: FarmConnection,
  retention: RetentionSettings,
  prefix = farmPrefix,
): QueueOptions {
  return {
    connection: asConnection(connection),
    prefix,
    defaultJobOptions: {
      attempts: 1,
      removeOnComplete: { count: retention.keepCompletedJobs },
      removeOnFail: { count: retention.keepFailedJobs },
    },
  };
}

export interface StalledSettings {
  /** How often the stalled checker runs (ms). */
  stalledIntervalMs: number;
  /** Times a job may come back from a lost worker before it fails. */
  maxStalledCount: number;
}

/** Options of the coordinator's processor-less workers that only run the stalled checker. */
export function stalledCheckerOptions(
  connection: FarmConnection,
  stalled: StalledSettings,
  prefix = farmPrefix,
): WorkerOptions {
  return {
    connection: asConnection(connection),
    prefix,
    autorun: false,
    stalledInterval: stalled.stalledIntervalMs,
    maxStalledCount: stalled.maxStalledCount,
  };
}

/** Options of a worker agent's BullMQ worker for one arch queue. */
export function buildWorkerOptions(
  connection: FarmConnection,
  settings: { name: string; concurrency: number; lockDurationMs: number } & StalledSettings,
  prefix = farmPrefix,
): WorkerOptions {
  return {
    connection: asConnection(connection),
    prefix,
    name: settings.name,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    // Fetch at once when a job arrives; the blocking wait is what keeps dispatch latency low.
    drainDelay: 5,
  };
}
