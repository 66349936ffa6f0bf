import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { attemptKeyHash, newAttemptKey } from './attempt-key.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * The answers of the read-only fence, the publish record and the log's end net (build-fence-scripts.ts)
 * where the other store tests do not look: a build that is gone or no longer running, a publish of a
 * build not succeeded or of another run, a build without artifacts, a log whose last entry only holds
 * `eof` as a value. Each was a surviving mutant of scripts/lua-mutation.ts.
 */
describe('the fence, publish and log-end scripts answer exactly', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64'];
  const at = { taskId: '1', arch: 'amd64', run: 1, archs };
  let hash = '';

  beforeEach(async () => {
    expect(await queueTestTask(db.store, archs)).toBe('done');
    const key = newAttemptKey({ taskId: '1', arch: 'amd64', run: 1 });
    hash = attemptKeyHash(key.key, { taskId: '1', arch: 'amd64', run: 1 });
    const claim = { from: ['queued' as const], to: 'running' as const, incrementAttempt: true };
    expect((await db.store.transition({ ...at, ...claim, set: { attemptKeyHash: hash, builder: 'w' } })).done).toBe(
      true,
    );
  });

  it('answers the current attempt with its state, run and attempt; a build that is gone as gone', async () => {
    const current = { run: 1, attempt: 1, attemptKeyHash: hash };
    expect(await db.store.fence('1', 'amd64', current)).toEqual({ refusal: '', state: 'running', run: 1, attempt: 1 });
    expect(await db.store.fence('1', 'riscv64', current)).toEqual({ refusal: 'gone', state: '', run: 0, attempt: 0 });
  });

  it('refuses an upload to a build that is no longer running, even with its own run, attempt and key', async () => {
    expect((await db.store.transition({ ...at, from: ['running'], to: 'succeeded' })).done).toBe(true);
    const own = { run: 1, attempt: 1, attemptKeyHash: hash };
    expect(await db.store.fence('1', 'amd64', own)).toEqual({
      refusal: 'state',
      state: 'succeeded',
      run: 1,
      attempt: 1,
    });
  });

  it('records a publish only for a succeeded build of that run, and keeps an empty artifact list a list', async () => {
    const build = { taskId: '1', arch: 'amd64', run: 1, attempt: 1 };
    const before = await db.redis.hgetall(farmKeys.build('1', 'amd64'));
    expect(await db.store.markPublished(build, 'stable')).toBe(false); // still running
    expect(await db.redis.hgetall(farmKeys.build('1', 'amd64'))).toEqual(before);
    expect(
      (await db.store.transition({ ...at, from: ['running'], to: 'succeeded', set: { artifacts: [] } })).done,
    ).toBe(true);
    expect(await db.store.markPublished({ ...build, run: 2 }, 'stable')).toBe(false);
    expect(await db.store.markPublished(build, 'stable')).toBe(true);
    expect(await db.redis.hget(farmKeys.build('1', 'amd64'), 'artifacts')).toBe('[]');
    expect((await db.store.getBuild('1', 'amd64'))?.artifacts).toEqual([]);
  });

  it('reads only field names for the end of a log: a value `eof` is no end', async () => {
    const log = farmKeys.log('1', 'amd64', 1);
    await db.redis.xadd(log, '*', 'l', 'line', 'x', 'eof');
    expect(await db.store.endLogIfOpen('1', 'amd64', 1, 'failed', 'lost')).toBe(true);
    expect(await db.store.endLogIfOpen('1', 'amd64', 1, 'failed', 'lost')).toBe(false);
  });
});
