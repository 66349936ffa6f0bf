import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startRedis, type RedisHandle } from './redis-server.ts';

/** A real redis-server for one describe block, one client on it, and what `make` built on that client. */
export type RedisFixture<S extends object> = { readonly server: RedisHandle; readonly redis: Redis } & Readonly<S>;

/**
 * Registers the hooks of a describe block that talks to a real Redis: starts a
 * redis-server (beforeAll), opens one client and builds `make(redis)` on it (the
 * stores under test: each test file builds its own, from its own source), empties
 * Redis before each test unless `flush: false`, and closes both after the block.
 * The fields are there once the block's beforeAll ran, so read them inside tests and hooks.
 *
 *   const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
 *   it('...', async () => { await db.store.createTask(...); await db.redis.xrange(...); });
 */
export function useRedisFixture<S extends object = Record<never, never>>(
  make: (redis: Redis) => S = () => ({}) as S,
  options: { flush?: boolean } = {},
): RedisFixture<S> {
  const fixture = {} as { server: RedisHandle; redis: Redis } & S;
  beforeAll(async () => {
    const server = await startRedis();
    const redis = new Redis(server.url);
    Object.assign(fixture, { server, redis }, make(redis));
  });
  afterAll(async () => {
    fixture.redis?.disconnect();
    await fixture.server?.stop();
  });
  if (options.flush !== false)
    beforeEach(async () => {
      await fixture.redis.flushall();
    });
  return fixture;
}
