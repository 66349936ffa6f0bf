import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { silentLogger } from '@aoinb/logging';
import { FarmStore } from '@aoinb/farm-protocol';
import { useRedisFixture } from '@aoinb/testkit/fixtures';
import { CoordinatorClient } from '../src/coordinator-client.ts';
import { JobRunner } from '../src/job-runner.ts';
import type { RunningJob } from '../src/running-job.ts';
import { fakeExecutor } from './fake-executor.ts';
import { seamFixture, type SeamFixture } from './seam-fixture.ts';
import { startStandinCoordinator, type StandinCoordinator } from './standin-coordinator.ts';

/** A worker's seams for one describe block: a real Redis, a stand-in coordinator, a scratch folder, queued builds. */
export type SeamRig = SeamFixture & {
  readonly redis: Redis;
  /** The redis-server's URL. */
  readonly redisUrl: string;
  readonly coordinator: StandinCoordinator;
  readonly dir: string;
  /** A JobRunner wired to the rig: the fake executor, the stand-in coordinator, jobs under `dir/jobs`. */
  runner(options: SeamRunnerOptions): JobRunner;
};

export interface SeamRunnerOptions {
  builderId: string;
  /** The worker token sent to the stand-in (default `seam-worker-token`). */
  token?: string;
  /** How long the coordinator client retries a 5xx or an unreachable coordinator (default 0: never). */
  retryForMs?: number;
  /** How long each fake build takes (default 20 ms). */
  durationMs?: number;
  onStarted?: (job: RunningJob) => void;
  onFinished?: (job: RunningJob) => void;
}

/**
 * Registers the hooks of a describe block that tests the worker at its seams
 * (beforeAll: redis-server, stand-in coordinator, scratch folder `aoinb-<name>-*`,
 * then `prepare(redis)`; afterAll: all of it closed and removed). Redis is not
 * emptied between tests: each queued build is a task of its own.
 */
export function useSeamRig(name: string, options: { prepare?: (redis: Redis) => Promise<void> } = {}): SeamRig {
  const db = useRedisFixture(() => ({}), { flush: false });
  const rig = {
    runner(runnerOptions: SeamRunnerOptions): JobRunner {
      const logger = silentLogger();
      const token = runnerOptions.token ?? 'seam-worker-token';
      return new JobRunner({
        logger,
        redis: db.redis,
        store: rig.store,
        client: new CoordinatorClient({
          baseUrl: rig.coordinator.url,
          token,
          logger,
          retryForMs: runnerOptions.retryForMs ?? 0,
        }),
        executor: fakeExecutor({ durationMs: runnerOptions.durationMs ?? 20, sampleIntervalMs: 0 }),
        builderId: runnerOptions.builderId,
        jobsDir: path.join(rig.dir, 'jobs'),
        maxBundleBytes: 1024 * 1024,
        onStarted: runnerOptions.onStarted ?? (() => undefined),
        onFinished: runnerOptions.onFinished ?? (() => undefined),
      });
    },
  } as SeamRig;
  beforeAll(async () => {
    await options.prepare?.(db.redis);
    const coordinator = await startStandinCoordinator();
    const dir = await mkdtemp(path.join(tmpdir(), `aoinb-${name}-`));
    const fixture = seamFixture({ store: new FarmStore(db.redis), redisPort: db.server.port, coordinator, dir });
    Object.assign(rig, fixture, { redis: db.redis, redisUrl: db.server.url, coordinator, dir });
  });
  // The queues a test opens are its own (the per-test leak check); the next test opens them again.
  afterEach(async () => {
    await rig.close?.();
  });
  afterAll(async () => {
    await rig.close?.();
    await rig.coordinator?.close();
    if (rig.dir) await rm(rig.dir, { recursive: true, force: true });
  });
  return rig;
}
