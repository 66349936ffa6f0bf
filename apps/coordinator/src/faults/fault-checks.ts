import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { farmDeadlineMs, farmTokens, type FarmHarness, type TaskStatus, readSse } from '@aoinb/farm-harness';

/**
 * What every fault test checks at its end: each build submitted succeeded
 * exactly once (one run, one attempt, its one .deb), none is lost, its log
 * ends (a follower stops), and no mount is left under the farm's folder.
 * `attempt`: the attempt that succeeded (2 when a lost worker's job was taken over; `expect.any(Number)`: any).
 */
export async function expectSucceededOnce(
  farm: FarmHarness,
  ids: string[],
  options: { testMounts?: string[]; attempt?: number } = {},
): Promise<void> {
  expect(new Set(ids).size, 'task ids are unique').toBe(ids.length);
  for (const id of ids) {
    const status: TaskStatus = await farm.waitForState(id, ['succeeded', 'failed', 'cancelled'], farmDeadlineMs);
    expect(status.state, `task ${id}: ${JSON.stringify(status)}`).toBe('succeeded');
    for (const job of status.jobs) {
      expect(job, `task ${id} ${job.arch}`).toMatchObject({
        state: 'succeeded',
        run: 1,
        attempt: options.attempt ?? 1,
      });
      expect(job.artifacts, `task ${id} ${job.arch}`).toHaveLength(1);
      const events = await readSse(`${farm.coordinatorUrl}/task/${id}/log?arch=${job.arch}`, {
        token: farmTokens.maintainer,
      });
      expect(events[events.length - 1], `the log of task ${id} ${job.arch} ends`).toMatchObject({ event: 'end' });
    }
  }
  await expectNoMountsUnder(farm.root, options.testMounts);
}

/** No mount under `root` but the test's own (`testMounts`, e.g. a small disk). */
export async function expectNoMountsUnder(root: string, testMounts: string[] = []): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .filter((l) => l.split(' ')[1]?.startsWith(root) && !testMounts.includes(l.split(' ')[1] ?? ''));
  expect(mounts, `mounts left under ${root}`).toEqual([]);
}

/**
 * Runs `fn` with a plain client of the farm's Redis (the operator's redis-cli): one connection, never
 * retried, so a look while Redis is down fails at once and leaves no client reconnecting behind it.
 */
export async function withRedis<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** The redis-server's process id, from INFO server (to freeze it with SIGSTOP). */
export function redisPid(url: string): Promise<number> {
  return withRedis(url, async (redis) => Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]));
}

/**
 * `fetch` with the harness's deadline (a hang, not a slow answer, fails it); resolves with the status, the
 * Retry-After header and the body.
 */
export async function timedRequest(
  url: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; retryAfter: string | null; body: unknown; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${init.token ?? farmTokens.admin}`, ...(init.headers ?? {}) },
    signal: init.signal ?? AbortSignal.timeout(farmDeadlineMs),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Plain text.
  }
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body,
    ms: performance.now() - started,
  };
}
