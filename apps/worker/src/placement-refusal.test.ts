import path from 'node:path';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import {
  buildJobName,
  buildQueueName,
  buildWorkerOptions,
  farmKeys,
  memberKey,
  FarmStore,
  readLogEntries,
  type BuildJobData,
  type BuildJobResult,
  type HostCapacity,
} from '@aoinb/farm-protocol';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { CoordinatorClient } from './coordinator-client.ts';
import { JobRunner } from './job-runner.ts';
import { CapacityRefusal, checkWholeJob } from './claim-check.ts';
import { handBackForPlacement } from './placement-refusal.ts';
import { fakeExecutor } from '../test-support/fake-executor.ts';
import { seamFixture, type SeamFixture } from '../test-support/seam-fixture.ts';
import { startStandinCoordinator, type StandinCoordinator } from '../test-support/standin-coordinator.ts';

const GiB = 1024 ** 3;

/**
 * The worker's side of placement against a real Redis and real BullMQ queues: a host short of
 * a build's needs is refused by the claim script and hands the job back delayed, with no
 * attempt used (neither the build's nor BullMQ's); a host that can takes it at attempt 1 and
 * times its start from the claim to the package's build step.
 */
describe('a worker that cannot meet a build hands it back', () => {
  let server: RedisHandle;
  let redis: Redis;
  let coordinator: StandinCoordinator;
  let fixture: SeamFixture;
  const tmp = useTempDir('aoinb-placement-');
  const startups: number[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    coordinator = await startStandinCoordinator();
    fixture = seamFixture({ store: new FarmStore(redis), redisPort: server.port, coordinator, dir: tmp.dir });
  });
  // The queues a test opens through the fixture are its own (the per-test leak check).
  afterEach(async () => {
    await fixture?.close();
  });
  afterAll(async () => {
    await fixture?.close();
    await coordinator?.close();
    await redis?.quit();
    await server?.stop();
  });

  function runner(memGiB: number): JobRunner {
    const logger = silentLogger();
    const capacity: HostCapacity = { cores: 4, memoryBytes: memGiB * GiB, diskFreeBytes: 100e9 };
    return new JobRunner({
      logger,
      redis,
      store: fixture.store,
      client: new CoordinatorClient({ baseUrl: coordinator.url, token: 'seam-worker-token', logger, retryForMs: 0 }),
      executor: fakeExecutor({ durationMs: 20, sampleIntervalMs: 0 }),
      builderId: `host-${memGiB}`,
      jobsDir: path.join(tmp.dir, `jobs-${memGiB}`),
      maxBundleBytes: 1024 * 1024,
      capacity: async () => capacity,
      observer: {
        started: () => undefined,
        sample: () => undefined,
        executed: () => undefined,
        uploaded: () => undefined,
        finished: () => undefined,
        buildStepStarted: (_job, _arch, ms) => startups.push(ms),
      },
      onStarted: () => undefined,
      onFinished: () => undefined,
    });
  }

  /** A BullMQ worker running `jobs` as the agent does: a capacity refusal hands the job back delayed. */
  function agentLike(jobs: JobRunner): Worker<BuildJobData, BuildJobResult> {
    return new Worker<BuildJobData, BuildJobResult>(
      buildQueueName('amd64'),
      async (job: Job<BuildJobData>, token?: string) => {
        try {
          return await jobs.process(job, token ?? '');
        } catch (error) {
          if (!(error instanceof CapacityRefusal)) throw error;
          const placement = { redis, keys: farmKeys, store: fixture.store, retryMs: 60_000, stepAsideMs: 5000 };
          return handBackForPlacement({ ...placement, builderId: 'test' }, job, token);
        }
      },
      buildWorkerOptions(
        { host: '127.0.0.1', port: server.port },
        { name: 'test', concurrency: 1, lockDurationMs: 5000, stalledIntervalMs: 30_000, maxStalledCount: 1 },
      ),
    );
  }

  it('refuses the claim, writes nothing, downloads nothing, and delays the job without using an attempt', async () => {
    const { job, data } = await fixture.queued({
      name: 'needs-four',
      needs: { memoryBytes: 4 * GiB },
      fake: { buildStepLine: true },
    });
    await expect(runner(2).process(job!, 'token')).rejects.toBeInstanceOf(CapacityRefusal);
    expect(await fixture.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    expect(await readLogEntries(redis, farmKeys.log(data.taskId, 'amd64', 1), '0', 10)).toEqual([]);
    expect(coordinator.requests).toEqual([]);

    const small = agentLike(runner(2));
    const queue = fixture.queue('amd64');
    await expect.poll(async () => (await queue.getJob(job!.id!))?.getState(), { timeout: 120_000 }).toBe('delayed');
    await small.close();
    const delayed = await queue.getJob(job!.id!);
    expect(delayed?.attemptsMade).toBe(0);
    expect(await fixture.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });

    // The coordinator promotes it once an able host is free; that host takes it at attempt 1.
    await delayed!.promote();
    const since = performance.now();
    const big = agentLike(runner(8));
    await expect.poll(async () => (await queue.getJob(job!.id!))?.getState(), { timeout: 120_000 }).toBe('completed');
    const whole = performance.now() - since;
    await big.close();
    expect(await fixture.store.getBuild(data.taskId, 'amd64')).toMatchObject({
      state: 'running',
      attempt: 1,
      builder: 'host-8',
    });
    expect(startups).toHaveLength(1);
    // Timed from the claim: within the whole run of the job (no wall-clock bound, which a loaded machine outlasts).
    expect(startups[0]).toBeGreaterThanOrEqual(0);
    expect(startups[0]).toBeLessThanOrEqual(Math.ceil(whole));
  });

  it('checks a sequential group job against the largest needs of its steps before its first step starts', async () => {
    const small = (await fixture.queued({ name: 'seq-small', noJob: true })).data;
    const big = (await fixture.queued({ name: 'seq-big', noJob: true, needs: { memoryBytes: 4 * GiB } })).data;
    const steps = [
      { ...small, after: [] },
      { ...big, after: [memberKey(small.taskId, 'amd64')] },
    ];
    const job = await fixture
      .queue('amd64')
      .add(buildJobName, { ...small, sequence: steps }, { jobId: 'seq-amd64-r1' });
    // The first step alone fits the 2 GiB host; the whole sequence does not: refused before anything is claimed.
    await expect(runner(2).process(job, 'token')).rejects.toBeInstanceOf(CapacityRefusal);
    for (const d of [small, big])
      expect(await fixture.store.getBuild(d.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    expect(coordinator.seen('GET', new RegExp(`^/task/(${small.taskId}|${big.taskId})/`))).toEqual([]);

    const host =
      (memGiB: number, networkBuilds = false) =>
      async () => ({
        cores: 4,
        memoryBytes: memGiB * GiB,
        diskFreeBytes: 100e9,
        networkBuilds,
      });
    await expect(checkWholeJob({ store: fixture.store, capacity: host(8) }, job)).resolves.toBeUndefined();
    // A step that asks for a network makes the whole sequence ask for one.
    const online = {
      ...job,
      data: { ...job.data, sequence: [steps[0]!, { ...steps[1]!, network: true }] },
    } as typeof job;
    await expect(checkWholeJob({ store: fixture.store, capacity: host(8) }, online)).rejects.toBeInstanceOf(
      CapacityRefusal,
    );
    await expect(checkWholeJob({ store: fixture.store, capacity: host(8, true) }, online)).resolves.toBeUndefined();
    // A step already final is skipped wherever the job runs: its needs no longer count.
    await fixture.store.transition({ taskId: big.taskId, arch: 'amd64', run: 1, archs: ['amd64'], to: 'cancelled' });
    await expect(checkWholeJob({ store: fixture.store, capacity: host(2) }, online)).resolves.toBeUndefined();
  });
});
