import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { AoinbConfig, ShutdownMode } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { Logger } from '@aoinb/logging';
import {
  closeRedis,
  connectRedis,
  farmNames,
  FarmStore,
  redisOptions,
  retireBuilder,
  subscribeCancel,
  type BuilderFacts,
  type FarmKeys,
  type RedisClient,
  type FarmConnection,
} from '@aoinb/farm-protocol';
import { archQueueWorker, type ArchQueueWorker } from './arch-queue-worker.ts';
import { CoordinatorClient } from './coordinator-client.ts';
import type { Executor } from './executor.ts';
import { agentVersion, beat, runHeartbeat, type HeartbeatDeps } from './heartbeat.ts';
import { hostCapacity } from './host-facts.ts';
import { HostGuard, joinFarm } from './host-guard.ts';
import { buildIdOf, JobRunner } from './job-runner.ts';
import type { BuildObserver } from './metrics/build-observer.ts';
import { jobProcessor } from './job-intake.ts';
import { applyCancel, type RunningJob } from './running-job.ts';
import { SlotGate } from './slot-gate.ts';

export interface WorkerAgentOptions {
  config: AoinbConfig;
  logger: Logger;
  executor: Executor;
  /** Defaults to the config's `[redis]`. */
  redis?: FarmConnection;
  /** Defaults to `worker.coordinator_url`, else `coordinator.public_url`. */
  coordinatorUrl?: string;
  /** Told about every build (metrics). */
  observer?: BuildObserver;
  /** Aborts the wait for the farm identity at start (Redis without one). */
  signal?: AbortSignal;
  /** How long a parked job stays out of its queue; at most how long this host steps aside (placement-refusal.ts). */
  placementRetryMs?: number;
  stepAsideMs?: number;
}

export type { ShutdownMode };

export interface WorkerAgent {
  readonly id: string;
  /** Stops taking jobs; running builds are handed back (`requeue`) or finished (`finish`, default from config). */
  stop(mode?: ShutdownMode): Promise<void>;
}

/** One agent: a BullMQ worker per arch tag sharing `worker.slots`, a heartbeat, a cancel listener. */
class Agent implements WorkerAgent {
  readonly id: string;
  private readonly settings: AoinbConfig['farm']['worker'];
  private readonly running = new Map<string, RunningJob>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly workers: ArchQueueWorker[] = [];
  private readonly loops = new AbortController();
  /** Aborted when the agent starts stopping: ends a placement step aside. */
  private readonly stopSignal = new AbortController();
  private readonly heartbeat: HeartbeatDeps;
  private readonly gate: SlotGate;
  private readonly process: ReturnType<typeof jobProcessor>;
  private readonly startedAt = new Date().toISOString();
  private readonly keys: FarmKeys;
  private mode: 'active' | 'draining' = 'active';
  /** Set while the host guard says to take no jobs (work dir full, farm identity lost). */
  private pausedReason: string | undefined;
  private readonly guard: HostGuard;
  private heartbeatLoop: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: WorkerAgentOptions,
    private readonly logger: Logger,
    private readonly connection: FarmConnection,
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    jobsDir: string,
    farmId: string,
  ) {
    const { config } = options;
    this.settings = config.farm.worker;
    this.id = this.settings.id;
    const keys = farmNames(config.farm.redis.prefix);
    this.keys = keys;
    this.heartbeat = {
      redis,
      keys,
      logger,
      intervalSeconds: this.settings.heartbeatSeconds,
      running: () => [...this.running.values()],
      facts: () => this.facts(),
      check: (facts) => this.checkHost(facts),
    };
    this.guard = this.newHostGuard(jobsDir, farmId);
    this.gate = new SlotGate(this.settings.slots, (full) => this.onSlotsFull(full));
    const store = new FarmStore(redis, keys);
    const runner = this.newRunner(store, jobsDir, farmId);
    this.process = jobProcessor({
      logger,
      gate: this.gate,
      runner,
      inFlight: this.inFlight,
      refusing: () => this.mode === 'draining' || this.pausedReason !== undefined,
      settlePutOffMs: this.settings.settlePutOffSeconds * 1000,
      placement: {
        redis,
        keys,
        store,
        builderId: this.id,
        retryMs: options.placementRetryMs,
        stepAsideMs: options.stepAsideMs,
        signal: this.stopSignal.signal,
      },
    });
  }

  /** Watches what this host needs to take jobs: free work-dir space, the farm it joined. */
  private newHostGuard(jobsDir: string, farmId: string): HostGuard {
    return new HostGuard({
      redis: this.redis,
      logger: this.logger,
      farmId,
      identityKey: this.keys.farmIdentity,
      workDir: this.options.config.workDir,
      jobsDir,
      minFreeDiskBytes: this.settings.minFreeDiskMib * 1024 * 1024,
      runningDirs: () => new Set([...this.running.values()].map((r) => buildIdOf(r.buildKey, r.attempt))),
    });
  }

  /** Runs one claimed build: its bundle from the coordinator, the executor, the result reported back. */
  private newRunner(store: FarmStore, jobsDir: string, farmId: string): JobRunner {
    const { config } = this.options;
    return new JobRunner({
      logger: this.logger,
      redis: this.redis,
      store,
      client: new CoordinatorClient({
        baseUrl: this.options.coordinatorUrl ?? this.settings.coordinatorUrl ?? config.farm.coordinator.publicUrl,
        token: this.settings.token ?? '',
        logger: this.logger,
        farmId,
      }),
      executor: this.options.executor,
      builderId: this.id,
      jobsDir,
      maxBundleBytes: config.farm.coordinator.maxBundleBytes,
      observer: this.options.observer,
      capacity: () => hostCapacity(config.workDir, this.settings, this.settings.allowNetworkBuilds),
      onStarted: (job) => {
        this.running.set(job.jobId, job);
        this.beatNow();
      },
      onFinished: (job) => {
        this.running.delete(job.jobId);
        this.beatNow();
      },
    });
  }

  private facts(): ReturnType<HeartbeatDeps['facts']> {
    const s = this.settings;
    const currentTasks = [...this.running.values()].map((r) => ({
      taskId: r.data.taskId,
      arch: r.data.arch,
      jobId: r.jobId,
      startedAt: r.startedAt,
    }));
    return {
      id: s.id,
      archs: s.archs,
      slots: s.slots,
      workDir: this.options.config.workDir,
      startedAt: this.startedAt,
      version: agentVersion,
      mode: this.mode,
      currentTasks,
      offer: s,
      allowNetworkBuilds: s.allowNetworkBuilds,
    };
  }

  /** Pauses the queues while the guard has a reason, resumes when it has none; a lost farm aborts running builds. */
  private async checkHost(facts: BuilderFacts): Promise<string | undefined> {
    const reason = await this.guard.check(facts);
    if (this.mode === 'draining') return reason;
    if (reason && !this.pausedReason) {
      this.logger.error({ reason }, 'taking no jobs');
      await Promise.all(this.workers.map((w) => w.pause(true)));
    } else if (!reason && this.pausedReason) {
      this.logger.warn({ was: this.pausedReason }, 'taking jobs again');
      if (this.workers.length < 2 || this.gate.used < this.gate.slots)
        await Promise.all(this.workers.map((w) => w.resume()));
    }
    // Builds of a farm Redis no longer knows: their results would be refused, their slots are wasted.
    if (this.guard.identityLost) for (const job of this.running.values()) job.abort('cancel');
    this.pausedReason = reason;
    return reason;
  }

  private beatNow(): void {
    void beat(this.heartbeat).catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat failed'));
  }

  /** With several arch queues, every queue pauses while the shared slots are full. */
  private onSlotsFull(full: boolean): void {
    if (this.workers.length < 2 || this.mode === 'draining' || this.pausedReason) return;
    for (const w of this.workers) void (full ? w.pause(true) : w.resume());
  }

  async start(): Promise<void> {
    await subscribeCancel(
      this.subscriber,
      (message) => applyCancel(this.running.values(), message, this.logger),
      this.keys,
    );
    await beat(this.heartbeat);
    this.heartbeatLoop = runHeartbeat(this.heartbeat, this.loops.signal);
    const queue = {
      config: this.options.config,
      connection: this.connection,
      prefix: this.keys.prefix,
      logger: this.logger,
      process: this.process,
    };
    for (const arch of this.settings.archs) this.workers.push(archQueueWorker(arch, queue));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.logger.info(
      { archs: this.settings.archs, slots: this.settings.slots, executor: this.options.executor.name },
      'worker agent started',
    );
  }

  stop(how: ShutdownMode = this.settings.onShutdown): Promise<void> {
    return (this.stopping ??= this.shutdown(how));
  }

  private async shutdown(how: ShutdownMode): Promise<void> {
    this.mode = 'draining';
    this.stopSignal.abort();
    this.logger.info({ mode: how, running: this.running.size }, 'worker agent stopping: taking no new jobs');
    this.beatNow();
    await Promise.all(this.workers.map((w) => w.pause(true)));
    if (how === 'requeue') for (const job of this.running.values()) job.abort('shutdown');
    await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.workers.map((w) => w.close()));
    this.loops.abort();
    await this.heartbeatLoop;
    await retireBuilder(this.redis, this.id, this.keys).catch(() => undefined);
    await Promise.all([closeRedis(this.redis), closeRedis(this.subscriber)]);
    this.logger.info('worker agent stopped');
  }
}

/** Takes build jobs for this host's arch tags, with `worker.slots` builds at once. */
export async function startWorkerAgent(options: WorkerAgentOptions): Promise<WorkerAgent> {
  const { config } = options;
  const settings = config.farm.worker;
  if (!settings.token)
    throw new AoinbError(
      'CONFIG_INVALID',
      'worker.token_file is not set (nor AOINB_WORKER_TOKEN_FILE): the worker cannot upload',
    );
  const logger = options.logger.child({ workerId: settings.id });
  const jobsDir = path.join(config.workDir, 'farm-worker', settings.id);
  await rm(jobsDir, { recursive: true, force: true });
  await mkdir(jobsDir, { recursive: true });
  await options.executor.prepare?.();
  const connection = options.redis ?? redisOptions(config.farm.redis);
  const redis = connectRedis(connection, logger, 'worker');
  const subscriber = connectRedis(connection, logger, 'worker-cancel', { enableReadyCheck: false });
  let farmId: string;
  try {
    farmId = await joinFarm(redis, farmNames(config.farm.redis.prefix).farmIdentity, logger, options.signal);
  } catch (error) {
    await Promise.all([closeRedis(redis), closeRedis(subscriber)]);
    throw error;
  }
  logger.info({ farmId }, 'joined the farm');
  const agent = new Agent(options, logger, connection, redis, subscriber, jobsDir, farmId);
  try {
    await agent.start();
  } catch (error) {
    await agent.stop('requeue');
    throw error;
  }
  return agent;
}
