import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@aoinb/logging';
import { farmIdentityKey, farmKeys } from '@aoinb/farm-protocol';
import { useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmIdentityGuard } from './farm-identity-guard.ts';
import { identityFilePath } from './identity-file.ts';

/** The guard against a real redis-server, as the coordinator uses it (storage folder on disk). */
describe('the farm identity guard', () => {
  const db = useRedisFixture();
  let storage: string;
  const logger = createLogger({ level: 'silent' });

  beforeEach(async () => {
    storage = await mkdtemp(path.join(tmpdir(), 'aoinb-identity-'));
    // The guard records the highest ids in its file in the background: rm retries while that write lands.
    return () => rm(storage, { recursive: true, force: true, maxRetries: 5 });
  });

  it('writes one identity at first start, in Redis and beside the storage; a second coordinator joins it', async () => {
    const first = await FarmIdentityGuard.open(db.redis, storage, logger);
    expect(first.state.ok).toBe(true);
    const onDisk = JSON.parse(await readFile(identityFilePath(storage), 'utf8')) as { id: string };
    expect(onDisk.id).toBe(first.farmId);
    expect(JSON.parse((await db.redis.get(farmIdentityKey))!)).toMatchObject({ id: first.farmId });
    const otherStorage = await mkdtemp(path.join(tmpdir(), 'aoinb-identity-'));
    const second = await FarmIdentityGuard.open(db.redis, otherStorage, logger);
    expect(second.farmId).toBe(first.farmId);
    await rm(otherStorage, { recursive: true, force: true });
  });

  it('refuses ids after FLUSHALL, and the adoption continues the counters past the highest id handed out', async () => {
    const guard = await FarmIdentityGuard.open(db.redis, storage, logger);
    for (let i = 1; i <= 5; i++) expect(await guard.allocateTaskId()).toBe(i);
    await guard.close();
    await db.redis.flushall();
    await expect(guard.allocateTaskId()).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    expect(await db.redis.exists(farmKeys.taskSeq)).toBe(0);
    expect(guard.state).toMatchObject({ ok: false, reason: expect.stringContaining('no farm identity') });
    await guard.adopt();
    expect(guard.state.ok).toBe(true);
    expect(await guard.allocateTaskId()).toBe(6);
  });

  it('a coordinator restarted on an empty Redis stays refused: its disk knows the farm', async () => {
    const guard = await FarmIdentityGuard.open(db.redis, storage, logger);
    await guard.allocateTaskId();
    await guard.close();
    await db.redis.flushall();
    const restarted = await FarmIdentityGuard.open(db.redis, storage, logger);
    expect(restarted.state.ok).toBe(false);
    expect(await db.redis.exists(farmIdentityKey)).toBe(0);
    expect(() => restarted.assertOk()).toThrow(/no farm identity/);
  });

  it("is refused on another farm's Redis, and adopting that Redis is refused too", async () => {
    const guard = await FarmIdentityGuard.open(db.redis, storage, logger);
    await db.redis.set(farmIdentityKey, JSON.stringify({ id: 'someone-else', createdAt: '' }));
    expect(await guard.check()).toMatchObject({ ok: false, reason: expect.stringContaining('someone-else') });
    await expect(guard.adopt()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(JSON.parse((await db.redis.get(farmIdentityKey))!)).toMatchObject({ id: 'someone-else' });
  });

  it('sees a Redis restored from an older copy (counters behind the ids handed out)', async () => {
    const guard = await FarmIdentityGuard.open(db.redis, storage, logger);
    for (let i = 0; i < 3; i++) await guard.allocateTaskId();
    await db.redis.set(farmKeys.groupSeq, '0');
    await db.redis.set(farmKeys.taskSeq, '1');
    expect(await guard.check()).toMatchObject({ ok: false, reason: expect.stringContaining('older copy') });
    await guard.adopt();
    expect(await db.redis.get(farmKeys.taskSeq)).toBe('3');
    expect(await guard.allocateTaskId()).toBe(4);
    // Its identity-file write must end before the storage folder is removed (ENOTEMPTY otherwise).
    await guard.close();
  });
  it('ids handed out while a check is on its way are not a rollback (checks beside concurrent creates)', async () => {
    // Every changing request checks; under load the counters it read are already behind the ids noted since.
    const guard = await FarmIdentityGuard.open(db.redis, storage, logger);
    const states = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 3 === 0 ? guard.check() : guard.allocateTaskId().then(() => guard.state),
      ),
    );
    expect(states.filter((s) => !s.ok)).toEqual([]);
    expect(guard.state.ok).toBe(true);
    await guard.close();
  });
});
