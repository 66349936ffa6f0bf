import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@aoinb/logging';
import { farmIdentityKey, farmKeys } from '@aoinb/farm-protocol';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { FarmIdentityGuard } from './farm-identity-guard.ts';
import { identityFilePath } from './identity-file.ts';

/** The guard against a real redis-server, as the coordinator uses it (storage folder on disk). */
describe('the farm identity guard', () => {
  let server: RedisHandle;
  let redis: Redis;
  let storage: string;
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    storage = await mkdtemp(path.join(tmpdir(), 'aoinb-identity-'));
    // The guard records the highest ids in its file in the background: rm retries while that write lands.
    return () => rm(storage, { recursive: true, force: true, maxRetries: 5 });
  });

  it('writes one identity at first start, in Redis and next to the storage, and a second coordinator joins it', async () => {
    const first = await FarmIdentityGuard.open(redis, storage, logger);
    expect(first.state.ok).toBe(true);
    const onDisk = JSON.parse(await readFile(identityFilePath(storage), 'utf8')) as { id: string };
    expect(onDisk.id).toBe(first.farmId);
    expect(JSON.parse((await redis.get(farmIdentityKey))!)).toMatchObject({ id: first.farmId });
    const otherStorage = await mkdtemp(path.join(tmpdir(), 'aoinb-identity-'));
    const second = await FarmIdentityGuard.open(redis, otherStorage, logger);
    expect(second.farmId).toBe(first.farmId);
    await rm(otherStorage, { recursive: true, force: true });
  });

  it('refuses ids after FLUSHALL, and the adoption continues the counters past the highest id handed out', async () => {
    const guard = await FarmIdentityGuard.open(redis, storage, logger);
    for (let i = 1; i <= 5; i++) expect(await guard.allocateTaskId()).toBe(i);
    await guard.close();
    await redis.flushall();
    await expect(guard.allocateTaskId()).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    expect(await redis.exists(farmKeys.taskSeq)).toBe(0);
    expect(guard.state).toMatchObject({ ok: false, reason: expect.stringContaining('no farm identity') });
    await guard.adopt();
    expect(guard.state.ok).toBe(true);
    expect(await guard.allocateTaskId()).toBe(6);
  });

  it('a coordinator restarted on an empty Redis stays refused: its disk knows the farm', async () => {
    const guard = await FarmIdentityGuard.open(redis, storage, logger);
    await guard.allocateTaskId();
    await guard.close();
    await redis.flushall();
    const restarted = await FarmIdentityGuard.open(redis, storage, logger);
    expect(restarted.state.ok).toBe(false);
    expect(await redis.exists(farmIdentityKey)).toBe(0);
    expect(() => restarted.assertOk()).toThrow(/no farm identity/);
  });

  it("is refused on another farm's Redis, and adopting that Redis is refused too", async () => {
    const guard = await FarmIdentityGuard.open(redis, storage, logger);
    await redis.set(farmIdentityKey, JSON.stringify({ id: 'someone-else', createdAt: '' }));
    expect(await guard.check()).toMatchObject({ ok: false, reason: expect.stringContaining('someone-else') });
    await expect(guard.adopt()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(JSON.parse((await redis.get(farmIdentityKey))!)).toMatchObject({ id: 'someone-else' });
  });

  it('sees a Redis restored from an older copy (counters behind the ids handed out)', async () => {
    const guard = await FarmIdentityGuard.open(redis, storage, logger);
    for (let i = 0; i < 3; i++) await guard.allocateTaskId();
    await redis.set(farmKeys.groupSeq, '0');
    await redis.set(farmKeys.taskSeq, '1');
    expect(await guard.check()).toMatchObject({ ok: false, reason: expect.stringContaining('older copy') });
    await guard.adopt();
    expect(await redis.get(farmKeys.taskSeq)).toBe('3');
    expect(await guard.allocateTaskId()).toBe(4);
    // Its id file write is in flight: wait for it before the folder goes.
    await guard.close();
  });
});
