import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens, packTestBundle } from '@aoinb/farm-harness';

/** The coordinator's default `[coordinator] log_followers_per_token`. */
const perToken = 32;

/**
 * Many SSE followers of one live log against the real coordinator, Redis and
 * a worker agent (fake executor): they share one Redis reader, and a token
 * holds at most its cap of live followers.
 */
describe('live log followers', () => {
  let farm: FarmHarness;
  let redis: Redis;
  const clients = async (): Promise<number> => ((await redis.client('LIST')) as string).trim().split('\n').length;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    redis = new Redis(farm.redis.url);
    await farm.startCoordinator();
    await farm.startWorker({ id: 'worker-a', archs: ['amd64'] });
  });
  afterAll(async () => {
    redis?.disconnect();
    await farm?.stop();
  });

  it('share one Redis reader per log, and a token over its cap gets a 429 naming the limit', async () => {
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), {
      name: 'chatty',
      fake: { durationMs: 8000, lines: 400, linesPerSecond: 60 },
    });
    const id = await farm.submit(archive);
    await farm.waitForState(id, ['running']);
    const url = `${farm.coordinatorUrl}/task/${id}/log?follow=true`;
    const open = async (token: string, abort: AbortController): Promise<Response> =>
      fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });

    const before = await clients();
    const abort = new AbortController();
    const followers = await Promise.all(
      Array.from({ length: perToken }, async () => open(farmTokens.maintainer, abort)),
    );
    expect(followers.map((r) => r.status)).toEqual(Array(perToken).fill(200));
    // Every follower reads lines: start each body and wait for its first event.
    const readers = followers.map((r) => r.body!.getReader());
    await Promise.all(readers.map(async (r) => r.read()));
    // One more Redis connection for all of them (a reader per follower would be 32).
    expect((await clients()) - before).toBeLessThanOrEqual(1);

    const over = await open(farmTokens.maintainer, new AbortController());
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({
      error: { code: 'TOO_MANY_FOLLOWERS', message: expect.stringContaining(`the limit is ${perToken}`) },
    });
    // The cap is per token: another token still follows.
    const otherAbort = new AbortController();
    const other = await open(farmTokens.admin, otherAbort);
    expect(other.status).toBe(200);
    otherAbort.abort();

    // Followers that leave free their places and, all gone, the shared reader.
    abort.abort();
    await Promise.all(readers.map(async (r) => r.closed.catch(() => undefined)));
    const deadline = Date.now() + 120_000;
    let again: Response | undefined;
    while (Date.now() < deadline) {
      again = await open(farmTokens.maintainer, new AbortController());
      if (again.status === 200) break;
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again?.status).toBe(200);
    // The follower that got a place again reads the log to its end.
    const text = await again!.text();
    expect(text).toMatch(/event: end\ndata: \{"state":"succeeded"/);
  });
});
