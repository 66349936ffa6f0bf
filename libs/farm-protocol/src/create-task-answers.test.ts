import { describe, expect, it } from 'vitest';
import { isAoinbError } from '@aoinb/errors';
import { testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * What the create script (create-task-script.ts) answers where the other store tests do not look: a key
 * record that is JSON but not an object, a write that fails after the type checks passed (the event, the
 * key record), and a task id the task list cannot order. Each was a surviving mutant of
 * scripts/lua-mutation.ts.
 */
describe('the create of a task answers exactly', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const key = farmKeys.idempotency('k1');
  const answer = { key, owner: 'c1', record: '{"taskId":"1"}', ttlSeconds: 60 };

  async function failure(write: Promise<unknown>): Promise<string> {
    const error: unknown = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isAoinbError(error)) throw new Error(`expected an AoinbError, got ${String(error)}`);
    return `${error.code}: ${error.message}`;
  }

  it('takes a key record that is JSON but not an object as not the caller’s: nothing is created', async () => {
    for (const held of ['"pending"', '42', 'true', '[]', 'not json']) {
      await db.redis.set(key, held);
      expect(await db.store.createTask(testTask('1'), answer)).toBe(false);
      expect(await db.redis.exists(farmKeys.task('1'), farmKeys.tasks, farmKeys.events)).toBe(0);
      expect(await db.redis.get(key)).toBe(held);
    }
  });

  it('names the write that failed after the type checks passed: an event stream that took its last id', async () => {
    await db.redis.xadd(farmKeys.events, '18446744073709551615-18446744073709551615', 'type', 'last');
    expect(await failure(db.store.createTask(testTask('1')))).toMatch(
      `STORE_COMMAND_FAILED: creating task 1: XADD ${farmKeys.events} failed: ERR The stream has exhausted`,
    );
  });

  it('names the write of the key record when it fails, and does not answer "created"', async () => {
    await db.redis.set(key, JSON.stringify({ owner: 'c1', state: 'pending' }));
    const expiresAtOnce = { ...answer, ttlSeconds: 0 }; // SET ... EX 0 is refused at run time
    expect(await failure(db.store.createTask(testTask('1'), expiresAtOnce))).toMatch(
      `STORE_COMMAND_FAILED: creating task 1: SET ${key} failed: ERR invalid expire time`,
    );
  });

  it('refuses a task id that is not a whole number before writing anything (the task list orders by it)', async () => {
    for (const id of ['x', '1.5', '', '01']) {
      expect(await failure(db.store.createTask(testTask(id)))).toMatch(`STORE_COMMAND_FAILED: creating task ${id}:`);
      expect(await db.redis.exists(farmKeys.task(id), farmKeys.tasks, farmKeys.events)).toBe(0);
    }
  });
});
