import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { leaseKey, LeaseStore } from './lease-store.ts';

describe('LeaseStore (real redis-server)', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: LeaseStore;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new LeaseStore(redis, '{lease-test}');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('gives a lease to one holder at a time, until it is released or expires; then another takes it', async () => {
    expect(await store.acquire('work', 'a', 10_000)).toBe(true);
    expect(await store.acquire('work', 'b', 10_000)).toBe(false);
    expect(await store.renew('work', 'b', 10_000)).toBe(false);
    expect(await store.renew('work', 'a', 10_000)).toBe(true);
    // Acquiring a lease one holds already extends it.
    expect(await store.acquire('work', 'a', 20_000)).toBe(true);
    expect(await redis.pttl(leaseKey('work', '{lease-test}'))).toBeGreaterThan(10_000);
    await store.release('work', 'b');
    expect(await store.holder('work')).toBe('a');
    await store.release('work', 'a');
    expect(await store.holder('work')).toBeUndefined();
    expect(await store.acquire('work', 'b', 50)).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.renew('work', 'b', 50)).toBe(false);
    expect(await store.acquire('work', 'a', 10_000)).toBe(true);
  });

  it('keeps leases of different names and prefixes apart; the pruner keeps its old key', async () => {
    expect(await store.acquire('one', 'a', 10_000)).toBe(true);
    expect(await store.acquire('two', 'b', 10_000)).toBe(true);
    expect(await new LeaseStore(redis, '{other}').acquire('one', 'b', 10_000)).toBe(true);
    expect(leaseKey('retention')).toBe('{aoinb}:retention:lease');
  });
});
