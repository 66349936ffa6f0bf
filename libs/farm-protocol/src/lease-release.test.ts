import { describe, expect, it } from 'vitest';
import { useRedisFixture } from '@aoinb/testkit/fixtures';
import { leaseKey, LeaseStore } from './lease-store.ts';

// The release path of the lease script (the survivors of its Lua mutation run, docs/testing.md): a release
// is its own branch, not a take or renew with a TTL of 0 (a SET with PX 0 is an error in Redis).
describe('LeaseStore release (real redis-server)', () => {
  const db = useRedisFixture((redis) => ({ store: new LeaseStore(redis, '{release-test}') }));
  const key = leaseKey('work', '{release-test}');

  it('gives up a lease nobody holds without an error and without taking it', async () => {
    await expect(db.store.release('work', 'a')).resolves.toBeUndefined();
    expect(await db.redis.exists(key)).toBe(0);
    expect(await db.store.holder('work')).toBeUndefined();
    // Nobody took it: another holder takes it at once.
    expect(await db.store.acquire('work', 'b', 300_000)).toBe(true);
    expect(await db.store.holder('work')).toBe('b');
  });

  it('leaves another holder’s lease and its deadline as they were', async () => {
    expect(await db.store.acquire('work', 'a', 300_000)).toBe(true);
    await db.store.release('work', 'b');
    expect(await db.store.holder('work')).toBe('a');
    expect(await db.redis.pttl(key)).toBeGreaterThan(200_000);
  });
});
