import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@aoinb/logging';
import { PROTOCOL_VERSION } from '@aoinb/farm-contract';
import { farmKeys, FarmStore, type BuildState } from '@aoinb/farm-protocol';
import { asFileFixture, parsePromText, promtool, startRedis, type RedisHandle } from '@aoinb/testkit';
import { testBuild, testTask } from '@aoinb/testkit/fixtures';
import { Dispatcher } from '../services/dispatcher.ts';
import { createCoordinatorMetrics, type CoordinatorMetrics } from './coordinator-metrics.ts';

const archs = ['amd64', 'arm64'];
const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection naming `what` once `ms` have passed (a deadline for hangs, not a speed limit). */
async function withinDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The coordinator's metrics over a real Redis, fed by the same Lua transitions the farm uses. */
describe('coordinator metrics', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: FarmStore;
  let dispatcher: Dispatcher;
  let metrics: CoordinatorMetrics;
  const scrape = async () => parsePromText(await metrics.registry.metrics());

  async function queue(taskId: string, taskArchs: string[]): Promise<void> {
    await store.createTask(testTask(taskId, { createdBy: 't', branch: 'stable' }));
    expect(
      await store.queueBuilds(
        { id: taskId },
        ['created'],
        [],
        { archs: taskArchs },
        taskArchs.map((a) => testBuild(taskId, a)),
      ),
    ).toBe('done');
  }
  async function move(
    taskId: string,
    arch: string,
    taskArchs: string[],
    from: BuildState,
    to: BuildState,
  ): Promise<void> {
    const outcome = await store.transition({
      taskId,
      arch,
      run: 1,
      archs: taskArchs,
      from: [from],
      to,
      incrementAttempt: to === 'running',
      set: to === 'running' ? { startedAtMs: Date.now(), startedAt: new Date().toISOString() } : {},
    });
    expect(outcome.done).toBe(true);
  }

  // The file's clients and metrics loops (asFileFixture): their reconnects once the last test stops Redis too.
  beforeAll(() =>
    asFileFixture(async () => {
      server = await startRedis();
      redis = new Redis(server.url, { maxRetriesPerRequest: null });
      // The last test stops Redis: reconnect errors are expected there.
      redis.on('error', () => undefined);
      store = new FarmStore(redis);
      dispatcher = new Dispatcher({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null }, archs, {
        keepCompletedJobs: 10,
        keepFailedJobs: 10,
      });
      for (const arch of archs) dispatcher.queue(arch).on('error', () => undefined);
      // Before the metrics start: a finished build (never counted) and a queued one (its wait comes from its record).
      await queue('1', ['amd64']);
      await move('1', 'amd64', ['amd64'], 'queued', 'running');
      await move('1', 'amd64', ['amd64'], 'running', 'succeeded');
      await queue('2', ['amd64']);
      metrics = createCoordinatorMetrics({
        redis,
        dispatcher,
        logger,
        access: 'token',
        version: 'test',
        collectTimeoutMs: 400,
      });
      await metrics.start();
    }),
  );
  afterAll(async () => {
    // The last test stopped Redis, and a queue's close waits for its server: bring one back on the same port.
    const again = server ? await startRedis({ port: server.port }) : undefined;
    await withinDeadline(dispatcher?.close() ?? Promise.resolve(), 20_000, 'closing the queues');
    redis?.disconnect();
    await again?.stop();
    await server?.stop();
  });

  it('counts transitions from the event stream once, with queue wait and duration, and zeros per arch', async () => {
    expect((await scrape()).value('aoinb_builds_finished_total', { arch: 'amd64', result: 'succeeded' })).toBe(0);
    await sleep(30);
    await move('2', 'amd64', ['amd64'], 'queued', 'running');
    await sleep(60);
    await move('2', 'amd64', ['amd64'], 'running', 'succeeded');
    // Task 3: arm64 is claimed, its worker is lost (back to the queue), claimed again, fails;
    // amd64 is cancelled while queued.
    await queue('3', archs);
    await move('3', 'arm64', archs, 'queued', 'running');
    await move('3', 'arm64', archs, 'running', 'queued');
    await move('3', 'arm64', archs, 'queued', 'running');
    await move('3', 'arm64', archs, 'running', 'failed');
    await move('3', 'amd64', archs, 'queued', 'cancelled');
    const m = await scrape();
    const check = await promtool(['check', 'metrics'], await metrics.registry.metrics());
    expect(check.exitCode, check.output).toBe(0);
    expect(m.value('aoinb_builds_finished_total', { arch: 'amd64', result: 'succeeded' })).toBe(1);
    expect(m.value('aoinb_builds_finished_total', { arch: 'amd64', result: 'cancelled' })).toBe(1);
    expect(m.value('aoinb_builds_finished_total', { arch: 'arm64', result: 'failed' })).toBe(1);
    expect(m.value('aoinb_builds_finished_total', { arch: 'arm64', result: 'succeeded' })).toBe(0);
    expect(m.value('aoinb_builds_started_total', { arch: 'arm64' })).toBe(2);
    expect(m.value('aoinb_builds_requeued_total', { arch: 'arm64' })).toBe(1);
    expect(m.value('aoinb_build_duration_seconds_count', { arch: 'amd64', result: 'succeeded' })).toBe(1);
    expect(m.value('aoinb_build_duration_seconds_sum', { arch: 'amd64', result: 'succeeded' })).toBeGreaterThanOrEqual(
      0.05,
    );
    expect(m.find('aoinb_build_duration_seconds_count', { arch: 'amd64', result: 'cancelled' })).toEqual([]);
    expect(m.value('aoinb_build_queue_wait_seconds_count', { arch: 'amd64' })).toBe(1);
    expect(m.value('aoinb_build_queue_wait_seconds_sum', { arch: 'amd64' })).toBeGreaterThanOrEqual(0.025);
    expect(m.value('aoinb_build_queue_wait_seconds_count', { arch: 'arm64' })).toBe(2);
    // A second scrape reads nothing new.
    expect((await scrape()).value('aoinb_builds_started_total', { arch: 'arm64' })).toBe(2);
  });

  it('reads the queues, live builds, builders and group records at scrape time', async () => {
    await queue('4', ['arm64']);
    await dispatcher.enqueue({
      protocol: PROTOCOL_VERSION,
      taskId: '4',
      arch: 'arm64',
      run: 1,
      taskArchs: ['arm64'],
      branch: 'stable',
      package: { name: 'x', version: '1', noarch: false },
      bundleSha256: '0',
      bundleSize: 1,
      timeoutMs: 0,
    });
    const facts = {
      id: 'b1',
      hostname: 'h',
      archs: ['amd64', 'arm64'],
      slots: 3,
      cores: 4,
      memoryTotalBytes: 1,
      memoryFreeBytes: 1,
      diskFreeBytes: 1,
      load: [0, 0, 0],
      currentTasks: [{ taskId: '9', arch: 'amd64', jobId: 'j', startedAt: '' }],
      mode: 'active',
      startedAt: '',
      lastHeartbeat: new Date().toISOString(),
      version: '1',
    };
    await redis
      .multi()
      .set(farmKeys.builder('b1'), JSON.stringify(facts), 'EX', 30)
      .zadd(farmKeys.builders, Date.now(), 'b1')
      .zadd(farmKeys.builders, Date.now() - 60_000, 'gone')
      .exec();
    await redis
      .multi()
      .zadd(farmKeys.groups, 1, 'g1', 2, 'g2', 3, 'g3')
      .hset(farmKeys.group('g1'), 'state', 'running')
      .hset(farmKeys.group('g2'), 'state', 'partial')
      .hset(farmKeys.group('g3'), 'state', 'running')
      .exec();
    const m = await scrape();
    expect(m.value('aoinb_queue_jobs', { arch: 'arm64', state: 'waiting' })).toBe(1);
    expect(m.value('aoinb_queue_jobs', { arch: 'amd64', state: 'waiting' })).toBe(0);
    expect(m.value('aoinb_active_builds', { arch: 'arm64', state: 'queued' })).toBe(1);
    expect(m.value('aoinb_builders', { arch: 'amd64', state: 'building' })).toBe(1);
    expect(m.value('aoinb_builders', { arch: 'arm64', state: 'building' })).toBe(1);
    expect(m.value('aoinb_builders', { arch: 'unknown', state: 'offline' })).toBe(1);
    expect(m.value('aoinb_arch_slots', { arch: 'arm64' })).toBe(3);
    expect(m.value('aoinb_builder_up', { builder: 'gone' })).toBe(0);
    expect(m.value('aoinb_builder_running_builds', { builder: 'b1' })).toBe(1);
    expect(m.value('aoinb_groups', { state: 'running' })).toBe(2);
    expect(m.value('aoinb_groups', { state: 'partial' })).toBe(1);
    expect(m.value('aoinb_groups', { state: 'failed' })).toBe(0);
    // b1 goes offline: it stays counted under the arch tags this coordinator saw.
    await redis.del(farmKeys.builder('b1'));
    const later = await scrape();
    expect(later.value('aoinb_builders', { arch: 'arm64', state: 'offline' })).toBe(1);
    expect(later.value('aoinb_arch_slots', { arch: 'arm64' })).toBe(0);
  });

  it('takes group counts from a source the group scheduler passes in', async () => {
    const own = createCoordinatorMetrics({
      redis,
      dispatcher,
      logger,
      access: 'off',
      version: 'test',
      groupCounts: { countByState: async () => ({ running: 7, skipped_all: 1 }) },
    });
    const m = parsePromText(await own.registry.metrics());
    expect(m.value('aoinb_groups', { state: 'running' })).toBe(7);
    expect(m.value('aoinb_groups', { state: 'skipped_all' })).toBe(1);
    expect(m.value('aoinb_groups', { state: 'queued' })).toBe(0);
  });

  it('still answers, with aoinb_redis_up 0, when Redis is gone', async () => {
    expect((await scrape()).value('aoinb_redis_up')).toBe(1);
    await server.stop();
    // Commands to a lost Redis wait forever here (maxRetriesPerRequest: null): only the collect timeout ends them.
    const m = await withinDeadline(scrape(), 30_000, 'a scrape with Redis gone');
    expect(m.value('aoinb_redis_up')).toBe(0);
    // The collectors that timed out are counted; the count shows from the next scrape on.
    const errors = (await scrape()).find('aoinb_metrics_collect_errors_total');
    expect(errors.map((e) => e.labels.collector)).toEqual(expect.arrayContaining(['queues', 'builders']));
  });
});
