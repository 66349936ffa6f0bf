import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmDeadlineMs, farmTokens, packTestBundle, type TestBundle } from '@aoinb/farm-harness';
import { redisCommandTimeoutMs } from '../resilience/redis-fail-fast.ts';
import { expectSucceededOnce, redisPid, timedRequest } from './fault-checks.ts';

/**
 * Redis frozen (SIGSTOP: connected, answering nothing, the worst case for a
 * client): Redis-backed routes answer 503 with Retry-After within a bounded
 * time instead of hanging, requests the client gave up on create nothing when
 * Redis comes back, and the farm builds on afterwards.
 */
describe('fault: Redis frozen', () => {
  let farm: FarmHarness;
  let pid = 0;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const url = (route: string): string => `${farm.coordinatorUrl}${route}`;
  const taskCount = async (): Promise<number> =>
    ((await farm.api('GET', '/task?limit=500')).body as { tasks: unknown[] }).tasks.length;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'w1', archs: ['amd64'], slots: 2 });
    pid = await redisPid(farm.redis.url);
  });
  afterAll(async () => {
    if (pid) process.kill(pid, 'SIGCONT');
    await farm?.stop();
  });

  it('answers 503 with Retry-After while Redis is frozen, runs no abandoned request, and builds on after', async () => {
    const first = await farm.submit(await bundle({ name: 'before-freeze' }));
    await expectSucceededOnce(farm, [first]);
    const tasksBefore = await taskCount();
    process.kill(pid, 'SIGSTOP');
    try {
      const answers = await Promise.all([
        ...Array.from({ length: 4 }, () =>
          timedRequest(url('/task'), { method: 'POST', token: farmTokens.maintainer }),
        ),
        timedRequest(url(`/task/${first}/status`)),
        timedRequest(url('/task')),
        timedRequest(url('/healthz')),
      ]);
      for (const a of answers) {
        expect(a.status, JSON.stringify(a.body)).toBe(503);
        expect(a.retryAfter).toMatch(/^\d+$/);
        expect(a.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        // Bounded by the client's command timeout (a route runs a few commands), not by Redis's return: a
        // hanging route would answer only after SIGCONT, which comes after these answers (or timedRequest's abort).
        expect(a.ms).toBeLessThan(15 * redisCommandTimeoutMs);
      }
      // Clients that give up: nothing of theirs may run when Redis returns.
      const abandoned = await Promise.allSettled(
        Array.from({ length: 6 }, () =>
          timedRequest(url('/task'), {
            method: 'POST',
            token: farmTokens.maintainer,
            signal: AbortSignal.timeout(300),
          }),
        ),
      );
      expect(abandoned.every((r) => r.status === 'rejected')).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await farm.waitFor(async () => (await farm.api('GET', '/healthz')).status === 200, farmDeadlineMs, 'healthz again');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await taskCount()).toBe(tasksBefore);
    // The client's retry of a create it never saw answered: with an Idempotency-Key it gets the same task.
    const keyed = { method: 'POST', token: farmTokens.maintainer, headers: { 'idempotency-key': 'after-freeze-1' } };
    const [once, twice] = [await timedRequest(url('/task'), keyed), await timedRequest(url('/task'), keyed)];
    expect(once.status).toBe(201);
    expect(twice.body).toEqual(once.body);
    expect(await taskCount()).toBe(tasksBefore + 1);
    const after: string[] = [];
    for (let i = 0; i < 3; i++) after.push(await farm.submit(await bundle({ name: `after-freeze-${i}` })));
    await expectSucceededOnce(farm, after);
  });
});
