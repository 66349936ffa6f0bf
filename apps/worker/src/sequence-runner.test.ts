import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@aoinb/logging';
import {
  buildJobName,
  FarmStore,
  memberKey,
  type BuildJobData,
  type BuildJobResult,
  type SequenceStep,
} from '@aoinb/farm-protocol';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { CoordinatorClient } from './coordinator-client.ts';
import { JobRunner } from './job-runner.ts';
import type { RunningJob } from './running-job.ts';
import { fakeExecutor } from './testing/fake-executor.ts';
import { seamFixture, type SeamFixture } from './testing/seam-fixture.ts';
import { startStandinCoordinator, type StandinCoordinator } from './testing/standin-coordinator.ts';

/**
 * A sequential group's job through JobRunner: every step a build of its own
 * (claimed, built, uploaded, reported) in order, on a real Redis with a
 * stand-in coordinator; steps whose dependency failed are left alone.
 */
describe('sequence jobs against a real Redis and a stand-in coordinator', () => {
  let server: RedisHandle;
  let redis: Redis;
  let coordinator: StandinCoordinator;
  let fixture: SeamFixture;
  let dir: string;
  let sequences = 0;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    coordinator = await startStandinCoordinator();
    dir = await mkdtemp(path.join(tmpdir(), 'aoinb-sequence-'));
    fixture = seamFixture({ store: new FarmStore(redis), redisPort: server.port, coordinator, dir });
  });
  afterEach(() => {
    coordinator.requests.length = 0;
  });
  afterAll(async () => {
    await fixture?.close();
    await coordinator?.close();
    await redis?.quit();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const runner = (onStarted: (job: RunningJob) => void = () => undefined) => {
    const logger = silentLogger();
    return new JobRunner({
      logger,
      redis,
      store: fixture.store,
      client: new CoordinatorClient({ baseUrl: coordinator.url, token: 't', logger, retryForMs: 0 }),
      executor: fakeExecutor({ durationMs: 10, sampleIntervalMs: 0 }),
      builderId: 'seq-worker',
      jobsDir: path.join(dir, 'jobs'),
      maxBundleBytes: 1024 * 1024,
      onStarted,
      onFinished: () => undefined,
    });
  };
  const step = (data: BuildJobData, after: BuildJobData[] = []): SequenceStep => ({
    ...data,
    after: after.map((d) => memberKey(d.taskId, d.arch)),
  });
  /** The order the stand-in saw results in: task ids. */
  const reportOrder = () =>
    coordinator.seen('PUT', /^\/task\/\d+\/result\//).map((r) => /^\/task\/(\d+)\//.exec(r.url)![1]!);
  async function sequenceJob(steps: SequenceStep[]) {
    sequences += 1;
    const { after: _after, ...first } = steps[0]!;
    void _after;
    return fixture.queue('amd64').add(buildJobName, { ...first, sequence: steps }, { jobId: `s${sequences}-amd64-r1` });
  }

  it('builds each step in order as a build of its own, and sums them up', async () => {
    const a = (await fixture.queued({ name: 'seq-a', noJob: true })).data;
    const b = (await fixture.queued({ name: 'seq-b', noJob: true })).data;
    const c = (await fixture.queued({ name: 'seq-c', noJob: true })).data;
    const job = await sequenceJob([step(a), step(b, [a]), step(c, [a, b])]);
    // The stand-in accepts results without settling the records: settle each as the coordinator would.
    coordinator.answer = (r) => {
      const m = /^\/task\/(\d+)\/result\/amd64$/.exec(r.url);
      if (r.method === 'PUT' && m) void settle(m[1]!, (JSON.parse(r.body.toString()) as BuildJobResult).status);
      return undefined;
    };
    const result = await runner().process(job, 'bull-token');
    coordinator.answer = undefined;
    expect(reportOrder()).toEqual([a.taskId, b.taskId, c.taskId]);
    expect(result).toMatchObject({ status: 'succeeded', builder: 'seq-worker' });
    expect(result.artifacts.map((x) => x.name)).toEqual([
      'seq-a_1.0-0_amd64.deb',
      'seq-b_1.0-0_amd64.deb',
      'seq-c_1.0-0_amd64.deb',
    ]);
    for (const d of [a, b, c])
      expect(await fixture.store.getBuild(d.taskId, 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
  });

  it('leaves the steps after a failed dependency unbuilt (the coordinator marks them skipped)', async () => {
    const a = (await fixture.queued({ name: 'seq-fail', fake: { fail: 'step a broke' }, noJob: true })).data;
    const b = (await fixture.queued({ name: 'seq-needs-a', noJob: true })).data;
    const c = (await fixture.queued({ name: 'seq-free', noJob: true })).data;
    const job = await sequenceJob([step(a), step(b, [a]), step(c)]);
    coordinator.answer = (r) => {
      const m = /^\/task\/(\d+)\/result\/amd64$/.exec(r.url);
      if (r.method === 'PUT' && m) void settle(m[1]!, (JSON.parse(r.body.toString()) as BuildJobResult).status);
      return undefined;
    };
    const result = await runner().process(job, 'bull-token');
    coordinator.answer = undefined;
    expect(reportOrder()).toEqual([a.taskId, c.taskId]);
    expect(coordinator.seen('GET', new RegExp(`^/task/${b.taskId}/`))).toEqual([]);
    expect(await fixture.store.getBuild(b.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    expect(result).toMatchObject({ status: 'failed', reason: '1 of 2 steps did not succeed' });
  });

  it('waits for a dependency another sequence is still building, then builds', async () => {
    const outside = (await fixture.queued({ name: 'seq-noarch', noJob: true })).data;
    const base = { taskId: outside.taskId, arch: 'amd64', archs: ['amd64'], run: 1 };
    await fixture.store.transition({ ...base, from: ['queued'], to: 'running', incrementAttempt: true });
    const d = (await fixture.queued({ name: 'seq-after-noarch', noJob: true })).data;
    const job = await sequenceJob([step(d, [outside])]);
    let waiting: (job: RunningJob) => void = () => undefined;
    const listed = new Promise<RunningJob>((resolve) => (waiting = resolve));
    const running = runner((j) => waiting(j)).process(job, 'bull-token');
    // While it waits the step is listed as running on this builder (so cancel and shutdown reach it)...
    expect((await listed).data.taskId).toBe(d.taskId);
    // ...and nothing is claimed or asked of the coordinator.
    expect(coordinator.requests).toEqual([]);
    expect(await fixture.store.getBuild(d.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    await fixture.store.transition({ ...base, from: ['running'], to: 'succeeded' });
    const result = await running;
    expect(result.status).toBe('succeeded');
    expect(reportOrder()).toEqual([d.taskId]);
  });

  /** What the coordinator does on a result: the build's final state, fenced on the running attempt. */
  async function settle(taskId: string, status: BuildJobResult['status']): Promise<void> {
    await fixture.store.transition({ taskId, arch: 'amd64', archs: ['amd64'], run: 1, from: ['running'], to: status });
  }
});
