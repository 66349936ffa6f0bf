import { describe, expect, it } from 'vitest';
import { useRedisFixture } from '@aoinb/testkit/fixtures';
import {
  adoptFarmIdentity,
  claimFarmIdentity,
  farmIdentityKey,
  newFarmIdentity,
  nextIdOfFarm,
  readFarmIdentity,
  readFarmIdentityRaw,
} from './farm-identity.ts';
import { farmKeys } from './names.ts';

// The farm identity's two scripts against a real redis-server (the coordinator's guard, which uses them, is
// tested in apps/coordinator/src/resilience; these are the store's own answers, docs/testing.md).
describe('the farm identity in Redis (real redis-server)', () => {
  const db = useRedisFixture();
  const counter = farmKeys.taskSeq;
  const other = farmKeys.groupSeq;
  const garbled = '{aoinb}:garbled-seq';

  it('is written once: a second claim gets the first identity', async () => {
    const first = newFarmIdentity();
    expect(await claimFarmIdentity(db.redis, first)).toEqual(first);
    expect(await claimFarmIdentity(db.redis, newFarmIdentity())).toEqual(first);
    expect(await readFarmIdentity(db.redis)).toEqual(first);
  });

  it('hands out ids while Redis holds this identity, and refuses them when it holds none or another', async () => {
    await expect(nextIdOfFarm(db.redis, counter, 'farm-a')).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    expect(await db.redis.exists(counter)).toBe(0);
    await db.redis.set(farmIdentityKey, JSON.stringify({ id: 'farm-a', createdAt: '' }));
    expect(await nextIdOfFarm(db.redis, counter, 'farm-a')).toBe(1);
    expect(await nextIdOfFarm(db.redis, counter, 'farm-a')).toBe(2);
    await expect(nextIdOfFarm(db.redis, counter, 'farm-b')).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    expect(await db.redis.get(counter)).toBe('2');
  });

  it('refuses ids on a record that is no identity (not JSON, JSON of no object)', async () => {
    for (const raw of ['not json', '42', 'true', '"farm-a"']) {
      await db.redis.set(farmIdentityKey, raw);
      await expect(nextIdOfFarm(db.redis, counter, 'farm-a')).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    }
    expect(await db.redis.exists(counter)).toBe(0);
  });

  it('adopts on an empty Redis, raising each counter to its floor and never lowering one', async () => {
    const identity = newFarmIdentity();
    await db.redis.set(other, '50');
    const floors = { [counter]: 7, [other]: 9, [garbled]: 1 };
    // A counter that holds no number counts as 0: raised even to a floor of 1.
    await db.redis.set(garbled, 'garbage');
    expect(await adoptFarmIdentity(db.redis, identity, undefined, floors)).toBe(true);
    expect(await readFarmIdentity(db.redis)).toEqual(identity);
    expect(await db.redis.get(counter)).toBe('7');
    expect(await db.redis.get(other)).toBe('50');
    expect(await db.redis.get(garbled)).toBe('1');
    expect(await nextIdOfFarm(db.redis, counter, identity.id)).toBe(8);
  });

  it('adopts only over exactly the record the operator saw', async () => {
    const seen = JSON.stringify({ id: 'old', createdAt: '' });
    await db.redis.set(farmIdentityKey, seen);
    const identity = newFarmIdentity();
    // Expecting nothing where a record is, or another record: refused, nothing written.
    expect(await adoptFarmIdentity(db.redis, identity, undefined, { [counter]: 5 })).toBe(false);
    expect(await adoptFarmIdentity(db.redis, identity, '{"id":"older"}', { [counter]: 5 })).toBe(false);
    expect(await readFarmIdentityRaw(db.redis)).toBe(seen);
    expect(await db.redis.exists(counter)).toBe(0);
    expect(await adoptFarmIdentity(db.redis, identity, seen, { [counter]: 5 })).toBe(true);
    expect(await readFarmIdentity(db.redis)).toEqual(identity);
    expect(await db.redis.get(counter)).toBe('5');
  });
});
