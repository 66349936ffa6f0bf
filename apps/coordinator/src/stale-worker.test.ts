import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmDeadlineMs, farmTokens, type TaskStatus } from '@aoinb/farm-harness';
import { packTestBundle } from '@aoinb/farm-harness';

/**
 * Issue 10's stale worker, for real: worker-a (a separate process, fake
 * executor) is frozen with SIGSTOP while it builds run 1, with the cancel of
 * run 1 unread in its socket; the task is cancelled and retried, and run 2 runs
 * on worker-b. When worker-a wakes it acts on that cancel and reports run 1
 * (which would also have failed): nothing of it may cancel, fail or publish run 2.
 */
describe('a worker frozen during run 1 that wakes after cancel and retry', () => {
  let farm: FarmHarness;
  const maintainer = { token: farmTokens.maintainer };
  const amd64 = (s: TaskStatus) => s.jobs.find((j) => j.arch === 'amd64')!;
  const signal = (name: string, sig: NodeJS.Signals) => {
    const pid = farm.processes.get(name)?.child.pid;
    if (pid) process.kill(pid, sig);
  };

  beforeAll(async () => {
    // Under a prefix of its own: the worker's claims, queues, cancels and heartbeats follow `[redis] prefix`.
    farm = await FarmHarness.create({ archs: ['amd64'], logLevel: 'info', redisPrefix: '{aoinb-stale}' });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'worker-a', archs: ['amd64'] });
  });
  afterAll(async () => {
    signal('worker-a', 'SIGCONT');
    await farm?.stop();
  });

  it('neither cancels, fails nor publishes run 2', async () => {
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), {
      name: 'frozen',
      fake: { durationMs: 8000, fail: 'run 1 was told to fail', failRuns: [1] },
    });
    const id = await farm.submit(archive);
    // Frozen inside the build (the executor has started), so it reports as soon as it wakes.
    await farm.waitFor(
      async () => (await farm.api('GET', `/task/${id}/log?arch=amd64`)).text.includes('fake build line'),
      farmDeadlineMs,
      'worker-a to be building run 1',
    );
    signal('worker-a', 'SIGSTOP');
    // The cancel of run 1, attempt 1 reaches worker-a's socket, unread.
    expect((await farm.api('POST', `/task/${id}/cancel`, undefined, maintainer)).status).toBe(202);
    expect(amd64(await farm.status(id))).toMatchObject({ run: 1, attempt: 1, builder: 'worker-a' });
    // worker-a cannot answer: its lock lapses, the stalled job comes back and the cancel completes.
    const cancelled = await farm.waitForState(id, ['cancelled']);
    expect(amd64(cancelled)).toMatchObject({ state: 'cancelled', run: 1 });
    await farm.startWorker({ id: 'worker-b', archs: ['amd64'] });
    expect((await farm.api('POST', `/task/${id}/retry`, undefined, maintainer)).status).toBe(202);
    await farm.waitFor(
      async () => {
        const job = amd64(await farm.status(id));
        return job.run === 2 && job.state === 'running' && job.builder === 'worker-b';
      },
      farmDeadlineMs,
      'worker-b on run 2',
    );

    signal('worker-a', 'SIGCONT');
    const coordinator = farm.processes.get('coordinator')!;
    await farm.waitFor(
      async () => coordinator.output().includes('stale result refused'),
      farmDeadlineMs,
      "the coordinator to refuse worker-a's stale report",
    );
    expect(amd64(await farm.status(id))).toMatchObject({ state: 'running', run: 2, attempt: 1, builder: 'worker-b' });

    const done = await farm.waitForState(id, ['succeeded', 'failed', 'cancelled']);
    expect(done.state).toBe('succeeded');
    expect(amd64(done)).toMatchObject({ state: 'succeeded', run: 2, attempt: 1, builder: 'worker-b', reason: null });
    expect(amd64(done).artifacts.map((a) => a.name)).toEqual(['frozen_1.0-0_amd64.deb']);
    const log2 = (await farm.api('GET', `/task/${id}/log?arch=amd64&run=2`)).text;
    expect(log2).toContain('attempt 1 on builder worker-b');
    expect(log2).not.toContain('worker-a');
    expect(log2).not.toContain('told to fail');
    // worker-a acted on the cancel addressed to its own run and attempt, and its report was dropped.
    expect(farm.processes.get('worker-a')!.output()).toContain('result was dropped');
    const redis = new Redis(farm.redis.url);
    const keys = await redis.keys('*');
    redis.disconnect();
    // Every key of the farm, its group builds' included, is under its prefix.
    expect(keys.filter((k) => !k.startsWith('{aoinb-stale}:'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('{aoinb-stale}:task:1:build:amd64'))).toHaveLength(1);
    await farm.kill('worker-b');
  });
});
