import { describe, expect, it } from 'vitest';
import { testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import type { TransitionRequest } from './build-transition.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

// The store's edges the flows of farm-store.test.ts and store-fencing.test.ts do not reach: ids from
// an allocator, the Idempotency-Key answer, the `below` attempt rule, a capacity refusal, log notes and
// ends, the upload lock, paging, and what a refused or done transition reports.

const archs = ['amd64'];
const at = (more: Partial<TransitionRequest> = {}): TransitionRequest => ({
  taskId: '1',
  arch: 'amd64',
  run: 1,
  archs,
  ...more,
});

describe('FarmStore edges (a real Redis)', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));

  async function queuedTask(fields: Parameters<typeof testBuild>[3] = {}): Promise<void> {
    await db.store.createTask(testTask('1'));
    expect(
      await db.store.queueBuilds({ id: '1' }, ['created'], [], { archs }, [testBuild('1', 'amd64', 1, fields)]),
    ).toBe('done');
  }

  it('takes task ids from the given allocator, leaving the INCR counter alone', async () => {
    const store = new FarmStore(db.redis, farmKeys, () => Promise.resolve(41));
    expect(await store.nextTaskId()).toBe('41');
    expect(await db.redis.get(farmKeys.taskSeq)).toBeNull();
    expect(await db.store.nextTaskId()).toBe('1');
    expect(await db.store.nextTaskId()).toBe('2');
  });

  it('records the Idempotency-Key answer with the create, only while the reservation is the caller’s', async () => {
    const key = farmKeys.idempotency('k1');
    const answer = { key, owner: 'c1', record: '{"taskId":"7"}', ttlSeconds: 60 };
    await db.redis.set(key, JSON.stringify({ owner: 'c2', state: 'pending' }));
    expect(await db.store.createTask(testTask('7'), answer)).toBe(false);
    expect(await db.store.getTask('7')).toBeUndefined();
    expect(await db.store.listTaskIds(10)).toEqual([]);
    await db.redis.set(key, JSON.stringify({ owner: 'c1', state: 'pending' }));
    expect(await db.store.createTask(testTask('7'), answer)).toBe(true);
    expect((await db.store.getTask('7'))?.state).toBe('created');
    expect(await db.redis.get(key)).toBe(answer.record);
    const ttl = await db.redis.ttl(key);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    await db.redis.del(key);
    expect(await db.store.createTask(testTask('8'), answer)).toBe(false);
  });

  it('fences on an attempt below a number, and reports run, attempt and builder of a refusal', async () => {
    await queuedTask();
    const claim = await db.store.transition(
      at({ from: ['queued'], to: 'running', incrementAttempt: true, set: { builder: 'w1' } }),
    );
    expect(claim).toEqual({
      done: true,
      cancelRequested: false,
      refusal: '',
      state: 'running',
      run: 1,
      attempt: 1,
      taskState: 'running',
      previousState: 'queued',
      previousBuilder: '',
    });
    expect(await db.store.transition(at({ attempt: { below: 1 }, set: { reason: 'x' } }))).toEqual({
      done: false,
      cancelRequested: false,
      refusal: 'attempt',
      state: 'running',
      run: 1,
      attempt: 1,
      taskState: 'running',
      previousState: 'running',
      previousBuilder: 'w1',
    });
    expect((await db.store.transition(at({ attempt: { below: 2 }, set: { reason: 'x' } }))).done).toBe(true);
    expect((await db.store.transition(at({ run: 2 }))).refusal).toBe('run');
    expect((await db.store.transition(at({ taskId: '9' }))).refusal).toBe('gone');
    expect((await db.store.transition(at({ from: ['queued', 'failed'] }))).refusal).toBe('state');
  });

  it('refuses a claim by a host short of the build’s needs before the attempt is used', async () => {
    await queuedTask({ needs: { cores: 4, memoryBytes: 8e9 } });
    const claim = (cores: number, memoryBytes: number) =>
      db.store.transition(
        at({
          from: ['queued'],
          to: 'running',
          incrementAttempt: true,
          capacity: { cores, memoryBytes, diskFreeBytes: 1e12 },
        }),
      );
    expect(await claim(2, 16e9)).toMatchObject({ done: false, refusal: 'capacity', attempt: 0, state: 'queued' });
    expect(await claim(8, 4e9)).toMatchObject({ done: false, refusal: 'capacity', attempt: 0 });
    expect(await claim(4, 8e9)).toMatchObject({ done: true, attempt: 1, state: 'running' });
  });

  it('goes on through a cancel request unless told to refuse, and without a claim keeps the attempt', async () => {
    await queuedTask({ cancelRequested: true });
    const move = await db.store.transition(at({ from: ['queued'], to: 'running' }));
    expect(move).toMatchObject({ done: true, cancelRequested: false, attempt: 0, state: 'running' });
  });

  it('writes no field for a value left undefined (an optional part of a result)', async () => {
    await queuedTask();
    await db.store.transition(at({ set: { builder: 'w1', reason: undefined, failureClass: undefined } }));
    expect(await db.redis.hget(farmKeys.build('1', 'amd64'), 'reason')).toBeNull();
    const build = await db.store.getBuild('1', 'amd64');
    expect(build?.builder).toBe('w1');
    expect(build && 'reason' in build).toBe(false);
  });

  it('writes the farm’s note to the run’s log with the final state’s end, and ends a log only once', async () => {
    await queuedTask();
    const fields = async (run: number) =>
      (await db.redis.xrange(farmKeys.log('1', 'amd64', run), '-', '+')).map(([, f]) => f);
    await db.store.transition(at({ to: 'failed', set: { reason: 'boom' }, note: 'placed on w1' }));
    expect(await fields(1)).toEqual([
      ['l', '[aoinb] placed on w1'],
      ['eof', 'failed', 'reason', 'boom'],
    ]);
    expect(await db.store.unarchivedLogs()).toEqual([{ taskId: '1', arch: 'amd64', run: 1 }]);
    expect(await db.store.endLogIfOpen('1', 'amd64', 1, 'failed', 'again', 'twice')).toBe(false);
    expect(await fields(1)).toHaveLength(2);
    // The net under a final state whose end is missing (a run whose log never got one).
    expect(await db.store.endLogIfOpen('1', 'amd64', 2, 'cancelled', 'lost', 'worker gone')).toBe(true);
    expect(await fields(2)).toEqual([
      ['l', '[aoinb] worker gone'],
      ['eof', 'cancelled', 'reason', 'lost'],
    ]);
    expect(await db.store.endLogIfOpen('1', 'amd64', 3, 'failed')).toBe(true);
    expect(await fields(3)).toEqual([['eof', 'failed', 'reason', '']]);
  });

  it('queues nothing while a bundle upload holds the task', async () => {
    await db.store.createTask(testTask('1'));
    await db.redis.set(farmKeys.bundleUploadLock('1'), 'u1');
    expect(await db.store.queueBuilds({ id: '1' }, ['created'], [], { archs }, [testBuild('1', 'amd64')])).toBe(
      'uploading',
    );
    expect(await db.store.getBuild('1', 'amd64')).toBeUndefined();
    expect((await db.store.getTask('1'))?.state).toBe('created');
  });

  it('moves a task with its guarded update only from the states it names', async () => {
    await db.store.createTask(testTask('1'));
    expect(await db.store.updateTask('1', ['queued', 'failed'], { branch: 'x' }, 'cancelled')).toEqual({
      done: false,
      state: 'created',
      groupId: '',
    });
    expect(await db.store.updateTask('1', ['queued', 'created'], { branch: 'x' }, 'cancelled')).toEqual({
      done: true,
      state: 'cancelled',
      groupId: '',
    });
    expect(await db.store.getTask('1')).toMatchObject({ state: 'cancelled', branch: 'x' });
    await db.store.createTask(testTask('2'));
    expect(await db.store.updateTask('2', ['created'], { branch: 'y' })).toEqual({
      done: true,
      state: 'created',
      groupId: '',
    });
    expect(await db.store.getTask('2')).toMatchObject({ state: 'created', branch: 'y' });
  });

  it('reads a record lacking later fields with their defaults, and a hash without id or state as none', async () => {
    await db.redis.hset(farmKeys.task('1'), { id: '1', state: 'created', createdAt: 'c', updatedAt: 'u' });
    expect(await db.store.getTask('1')).toEqual({
      id: '1',
      state: 'created',
      createdAt: 'c',
      updatedAt: 'u',
      archs: [],
      timeoutMs: 0,
    });
    await db.redis.hset(farmKeys.build('1', 'amd64'), { taskId: '1', arch: 'amd64', state: 'queued', run: '1' });
    const build = {
      taskId: '1',
      arch: 'amd64',
      state: 'queued',
      run: 1,
      attempt: 0,
      cancelRequested: false,
      artifacts: [],
    };
    expect(await db.store.getBuild('1', 'amd64')).toEqual(build);
    expect(await db.store.getBuilds('1', ['amd64'])).toEqual([build]);
    await db.redis.hset(farmKeys.task('2'), { state: 'created' });
    await db.redis.hset(farmKeys.build('2', 'amd64'), { taskId: '2', arch: 'amd64' });
    expect(await db.store.getTask('2')).toBeUndefined();
    expect(await db.store.getBuild('2', 'amd64')).toBeUndefined();
  });

  it('skips a member of the active-build and unarchived-log sets it cannot read', async () => {
    await queuedTask();
    await db.redis.sadd(farmKeys.activeBuilds, 'not a member');
    await db.redis.sadd(farmKeys.unarchivedLogs, 'not a member');
    expect(await db.store.activeBuilds()).toEqual([{ taskId: '1', arch: 'amd64' }]);
    expect(await db.store.unarchivedLogs()).toEqual([]);
  });

  it('pages below a task id by number, not by text', async () => {
    for (let i = 1; i <= 12; i++) await db.store.createTask(testTask(String(i)));
    expect(await db.store.listTaskIds(3, '10')).toEqual(['9', '8', '7']);
    expect(await db.store.listTaskIds(2)).toEqual(['12', '11']);
  });
});
