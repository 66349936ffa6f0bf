import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { WaitingError, Worker, type Job } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { AoinbConfig } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import {
  buildQueueName,
  buildWorkerOptions,
  closeRedis,
  connectRedis,
  FarmStore,
  redisOptions,
  retireBuilder,
  subscribeCancel,
  type BuildJobData,
  type BuildJobResult,
} from '@aoinb/farm-protocol';
import { CoordinatorClient } from './coordinator-client.ts';
import type { Executor } from './executor.ts';
import { agentVersion, beat, runHeartbeat, type HeartbeatDeps } from './heartbeat.ts';
import { JobRunner } from './job-runner.ts';
import type { RunningJob } from './running-job.ts';
import { SlotGate } from './slot-gate.ts';

export interface WorkerAgentOptions {
  config: AoinbConfig;
  logger: Logger;
  executor: Executor;
  /** Defaults to the config's `[redis]`. */
  redis?: RedisOptions;
  /** Defaults to `worker.coordinator_url`, else `coordinator.public_url`. */
  coordinatorUrl?: string;
}

export type ShutdownMode = 'requeue' | 'finish';

export interface WorkerAgent {
  readonly id: string;
  /** Stops taking jobs; running builds are handed back (`requeue`) or finished (`finish`, default from config). */
  stop(mode?: ShutdownMode): Promise<void>;
}

/** Takes build jobs for this host's arch tags, with `worker.slots` builds at once. */
export async function startWorkerAgent(options: WorkerAgentOptions): Promise<WorkerAgent> {
  const { config } = options;
  const settings = config.farm.worker;
  if (!settings.token) throw new AoinbError('CONFIG_INVALID', 'worker.token_file is not set (nor AOINB_WORKER_TOKEN): the worker cannot upload');
  const logger = options.logger.child({ workerId: settings.id });
  const connection = options.redis ?? redisOptions(config.farm.redis);
  const redis = connectRedis(connection, logger, 'worker');
  const subscriber = connectRedis(connection, logger, 'worker-cancel', { enableReadyCheck: false });
  const jobsDir = path.join(config.workDir, 'farm-worker', settings.id);
  await rm(jobsDir, { recursive: true, force: true });
  await mkdir(jobsDir, { recursive: true });

  const running = new Map<string, RunningJob>();
  const startedAt = new Date().toISOString();
  let mode: 'active' | 'draining' = 'active';
  const heartbeat: HeartbeatDeps = {
    redis,
    logger,
    intervalSeconds: settings.heartbeatSeconds,
    running: () => [...running.values()],
    facts: () => ({
      id: settings.id,
      archs: settings.archs,
      slots: settings.slots,
      workDir: config.workDir,
      startedAt,
      version: agentVersion,
      mode,
      currentTasks: [...running.values()].map((r) => ({ taskId: r.data.taskId, arch: r.data.arch, jobId: r.jobId, startedAt: r.startedAt })),
    }),
  };
  const beatNow = (): void => void beat(heartbeat).catch((error: Error) => logger.warn({ err: error.message }, 'heartbeat failed'));

  const runner = new JobRunner({
    logger,
    redis,
    store: new FarmStore(redis),
    client: new CoordinatorClient({ baseUrl: options.coordinatorUrl ?? settings.coordinatorUrl ?? config.farm.coordinator.publicUrl, token: settings.token, logger }),
    executor: options.executor,
    builderId: settings.id,
    jobsDir,
    maxBundleBytes: config.farm.coordinator.maxBundleBytes,
    onStarted: (job) => {
      running.set(job.jobId, job);
      beatNow();
    },
    onFinished: (job) => {
      running.delete(job.jobId);
      beatNow();
    },
  });

  await subscribeCancel(subscriber, (message) => running.get(message.jobId)?.abort('cancel'));
  const loops = new AbortController();
  await beat(heartbeat);
  const heartbeatLoop = runHeartbeat(heartbeat, loops.signal);

  const workers: Worker[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const gate = new SlotGate(settings.slots, (full) => {
    if (workers.length < 2 || mode === 'draining') return;
    for (const w of workers) void (full ? w.pause(true) : w.resume());
  });
  const processor = async (job: Job<BuildJobData>, token?: string, signal?: AbortSignal): Promise<BuildJobResult> => {
    // Fetched while draining (a blocking fetch was already under way) or past the slots: straight back.
    if (mode === 'draining' || !gate.tryTake()) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const work = runner.process(job, token ?? '', signal);
    inFlight.add(work);
    try {
      return await work;
    } finally {
      inFlight.delete(work);
      gate.release();
    }
  };
  const stalled = { stalledIntervalMs: config.farm.coordinator.stalledIntervalSeconds * 1000, maxStalledCount: config.farm.coordinator.maxStalledCount };
  for (const arch of settings.archs) {
    const w = new Worker<BuildJobData, BuildJobResult>(
      buildQueueName(arch),
      processor,
      buildWorkerOptions(connection, { name: settings.id, concurrency: settings.slots, lockDurationMs: settings.lockSeconds * 1000, ...stalled }),
    );
    w.on('error', (error) => logger.warn({ err: error.message, arch }, 'queue worker error'));
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info({ archs: settings.archs, slots: settings.slots, executor: options.executor.name }, 'worker agent started');

  let stopping: Promise<void> | undefined;
  const stop = async (how: ShutdownMode): Promise<void> => {
    mode = 'draining';
    logger.info({ mode: how, running: running.size }, 'worker agent stopping: taking no new jobs');
    beatNow();
    await Promise.all(workers.map((w) => w.pause(true)));
    if (how === 'requeue') for (const job of running.values()) job.abort('shutdown');
    await Promise.allSettled([...inFlight]);
    await Promise.all(workers.map((w) => w.close()));
    loops.abort();
    await heartbeatLoop;
    await retireBuilder(redis, settings.id).catch(() => undefined);
    await Promise.all([closeRedis(redis), closeRedis(subscriber)]);
    logger.info('worker agent stopped');
  };
  return {
    id: settings.id,
    stop: (how = settings.onShutdown) => (stopping ??= stop(how)),
  };
}
