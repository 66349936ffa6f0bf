import { describe, expect, it } from 'vitest';
import { testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore, type TaskFields } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * What the guarded task update (task-update-script.ts) writes, where the other store tests do not look:
 * the answer for a task that is not there, the times it stamps, the event of a cancel, and the `state`
 * it never takes from the field map. Each was a surviving mutant of scripts/lua-mutation.ts.
 */
describe('the guarded task update writes exactly', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const long = '2000-01-01T00:00:00.000Z';
  const events = async () => (await db.redis.xrange(farmKeys.events, '-', '+')).map(([, fields]) => fields);

  it('answers a task that is not there as such, and writes nothing', async () => {
    expect(await db.store.updateTask('7', ['created'], { branch: 'x' }, 'cancelled')).toEqual({
      done: false,
      state: '',
      groupId: '',
    });
    expect(await db.redis.exists(farmKeys.task('7'))).toBe(0);
    expect(await events()).toEqual([]);
  });

  it('stamps updatedAt with the time of the update, and leaves the state and finishedAt without `to`', async () => {
    await db.store.createTask(testTask('1', { createdAt: long, updatedAt: long }));
    const before = new Date().toISOString();
    expect(await db.store.updateTask('1', ['created'], { branch: 'stable' })).toEqual({
      done: true,
      state: 'created',
      groupId: '',
    });
    const task = await db.store.getTask('1');
    expect(task).toMatchObject({ state: 'created', branch: 'stable', createdAt: long });
    expect(task?.updatedAt).not.toBe(long);
    expect(task?.updatedAt && task.updatedAt >= before).toBe(true);
    expect(task?.finishedAt).toBeUndefined();
    expect(await events()).toHaveLength(1); // the create's
  });

  it('cancels with the state, finishedAt and event all at the time of the update', async () => {
    await db.store.createTask(testTask('1', { createdAt: long, updatedAt: long }));
    const before = new Date().toISOString();
    expect(await db.store.updateTask('1', ['created'], {}, 'cancelled')).toEqual({
      done: true,
      state: 'cancelled',
      groupId: '',
    });
    const task = await db.store.getTask('1');
    const at = task?.updatedAt ?? '';
    expect(at >= before).toBe(true);
    expect(task).toMatchObject({ state: 'cancelled', finishedAt: at });
    expect((await events()).slice(1)).toEqual([
      ['type', 'task', 'taskId', '1', 'state', 'cancelled', 'from', 'created', 'at', at],
    ]);
  });

  it('finishes a task only when it is cancelled: another move leaves finishedAt unset', async () => {
    await db.store.createTask(testTask('1'));
    expect((await db.store.updateTask('1', ['created'], {}, 'queued')).done).toBe(true);
    const task = await db.store.getTask('1');
    expect(task?.state).toBe('queued');
    expect(task?.finishedAt).toBeUndefined();
  });

  it('never takes `state` from the field map, whatever a caller passes', async () => {
    await db.store.createTask(testTask('1'));
    const fields = { state: 'succeeded', branch: 'x' } as TaskFields; // not a TaskField: the script holds it too
    expect(await db.store.updateTask('1', ['created'], fields)).toEqual({ done: true, state: 'created', groupId: '' });
    expect(await db.store.getTask('1')).toMatchObject({ state: 'created', branch: 'x' });
  });
});
