import { describe, expect, it } from 'vitest';
import { isAoinbError } from '@aoinb/errors';
import { testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { writeHeartbeat } from './builder-registry.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';
import type { BuilderFacts } from './records.ts';

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a rejected store write threw: its code and message. */
async function failure(write: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error: unknown = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAoinbError(error)) throw new Error(`expected an AoinbError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('store writes check every command (a real Redis)', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));

  async function nothingWritten(id: string): Promise<void> {
    expect(await db.redis.exists(farmKeys.task(id))).toBe(0);
    expect(await db.store.getTask(id)).toBeUndefined();
  }

  it('createTask names the command whose key has the wrong type, and writes nothing', async () => {
    await db.redis.set(farmKeys.tasks, 'not a sorted set');
    expect(await failure(db.store.createTask(testTask('1')))).toEqual({
      code: 'STORE_COMMAND_FAILED',
      message: expect.stringMatching(
        new RegExp(`^creating task 1: ZADD ${literal(farmKeys.tasks)} failed: WRONGTYPE .*string`),
      ),
    });
    await nothingWritten('1');
    expect(await db.redis.get(farmKeys.tasks)).toBe('not a sorted set');

    await db.redis.del(farmKeys.tasks);
    await db.redis.rpush(farmKeys.events, 'not a stream');
    expect((await failure(db.store.createTask(testTask('2')))).message).toMatch(`XADD ${farmKeys.events} failed`);
    await nothingWritten('2');
    expect(await db.redis.zcard(farmKeys.tasks)).toBe(0);
  });

  it("createTask checks the Idempotency-Key's record too", async () => {
    const key = `${farmKeys.prefix}:idem:k`;
    await db.redis.hset(key, 'owner', 'me');
    const answer = { key, owner: 'me', record: '{}', ttlSeconds: 60 };
    expect((await failure(db.store.createTask(testTask('3'), answer))).message).toMatch(`SET ${key} failed: WRONGTYPE`);
    await nothingWritten('3');
  });

  it('createTask names the command Redis refused at run time (out of memory)', async () => {
    await db.redis.config('SET', 'maxmemory', '1');
    try {
      const { code, message } = await failure(db.store.createTask(testTask('4')));
      expect(code).toBe('STORE_COMMAND_FAILED');
      expect(message).toMatch(new RegExp(`^creating task 4: HSET ${literal(farmKeys.task('4'))} failed: OOM`));
    } finally {
      await db.redis.config('SET', 'maxmemory', '0');
    }
    await nothingWritten('4');
    expect(await db.store.createTask(testTask('4'))).toBe(true);
    expect(await db.redis.zrange(farmKeys.tasks, 0, -1)).toEqual(['4']);
  });

  it("a heartbeat's MULTI fails on the command that failed instead of looking done", async () => {
    await db.redis.set(farmKeys.builders, 'not a sorted set');
    const facts = { id: 'w1', lastHeartbeat: new Date().toISOString() } as BuilderFacts;
    expect(await failure(writeHeartbeat(db.redis, facts, 60))).toEqual({
      code: 'STORE_COMMAND_FAILED',
      message: expect.stringContaining(`heartbeat of builder w1: ZADD ${farmKeys.builders} failed: WRONGTYPE`),
    });
  });
});
