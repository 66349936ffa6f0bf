import { describe, expect, it } from 'vitest';
import { testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';
import { RetentionStore } from './retention-store.ts';

// The guards and records of the retention scripts that retention-store.test.ts leaves open (the survivors
// of their Lua mutation run, docs/testing.md): a missing record, the age cut-off at its edge, queued work,
// and what a deletion leaves behind (pending note, active set, event).
describe('RetentionStore guards (real redis-server)', () => {
  const db = useRedisFixture((redis) => ({ farm: new FarmStore(redis), store: new RetentionStore(redis) }));
  const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const finals = ['succeeded', 'failed', 'partial', 'cancelled'];

  /** The fields of the last event of the farm's stream. */
  async function lastEvent(): Promise<Record<string, string>> {
    const [, fields] = (await db.redis.xrevrange(farmKeys.events, '+', '-', 'COUNT', 1))[0] ?? ['', []];
    return Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]));
  }

  /** A time written by the script: one between `from` and now. */
  const writtenSince = (from: number) => ({
    asymmetricMatch: (value: string) => Date.parse(value) >= from && Date.parse(value) <= Date.now(),
  });

  it('refuses a task or a group that does not exist, saying no state', async () => {
    const task = { taskId: '1', groupId: '', states: ['succeeded' as const], builds: [] };
    expect(await db.store.deleteTask(task)).toEqual({ result: 'refused', state: '', groupId: '' });
    expect(await db.store.deleteGroup('9', [], finals)).toEqual({
      result: 'refused',
      state: '',
      groupId: '9',
      taskIds: [],
    });
    expect(await db.store.pending()).toEqual([]);
  });

  it('ages a task from its finish (its creation when it never ran); the cut-off itself is not before', async () => {
    const finishedAt = ago(10);
    await db.farm.createTask(testTask('1', { state: 'succeeded', createdAt: ago(120), finishedAt }));
    const task = { taskId: '1', groupId: '', states: ['succeeded' as const], builds: [] };
    // Created two hours ago, finished ten minutes ago: not older than an hour.
    expect((await db.store.deleteTask({ ...task, finishedBefore: new Date(ago(60)) })).result).toBe('refused');
    expect((await db.store.deleteTask({ ...task, finishedBefore: new Date(finishedAt) })).result).toBe('refused');
    const justAfter = new Date(Date.parse(finishedAt) + 1);
    expect((await db.store.deleteTask({ ...task, finishedBefore: justAfter })).result).toBe('deleted');

    await db.farm.createTask(testTask('2', { createdAt: ago(120) }));
    const created = { taskId: '2', groupId: '', states: ['created' as const], builds: [] };
    expect((await db.store.deleteTask({ ...created, finishedBefore: new Date(ago(180)) })).result).toBe('refused');
    expect((await db.store.deleteTask({ ...created, finishedBefore: new Date(ago(60)) })).result).toBe('deleted');
  });

  it('never deletes a task with a queued build; a deletion clears the active set and notes when', async () => {
    await db.farm.createTask(testTask('1', { state: 'succeeded', finishedAt: ago(10) }));
    // The two fields the script reads of a build record.
    await db.redis.hset(farmKeys.build('1', 'amd64'), { state: 'queued', run: '1' });
    const task = { taskId: '1', groupId: '', states: ['succeeded' as const], builds: [{ arch: 'amd64', run: 1 }] };
    expect(await db.store.deleteTask(task)).toEqual({ result: 'refused', state: 'succeeded', groupId: '' });
    expect(await db.redis.exists(farmKeys.task('1'), farmKeys.build('1', 'amd64'))).toBe(2);

    await db.redis.hset(farmKeys.build('1', 'amd64'), 'state', 'succeeded');
    // A member left behind in the active set (a coordinator that died mid-way) goes with the task.
    await db.redis.sadd(farmKeys.activeBuilds, '1/amd64', '2/amd64');
    const before = Date.now();
    expect((await db.store.deleteTask(task)).result).toBe('deleted');
    expect(await db.redis.smembers(farmKeys.activeBuilds)).toEqual(['2/amd64']);
    expect(await db.redis.hget(farmKeys.retentionPending, 'task:1')).toEqual(writtenSince(before));
    expect(await lastEvent()).toEqual({
      type: 'task',
      taskId: '1',
      state: 'deleted',
      from: 'succeeded',
      at: writtenSince(before),
    });
  });

  it('deletes a group finished before the cut-off (not at it), never while a member is queued', async () => {
    const finishedAt = ago(10);
    await db.redis.hset(farmKeys.group('3'), { id: '3', state: 'succeeded', finishedAt, taskIds: '["1"]' });
    await db.redis.zadd(farmKeys.groups, 3, '3');
    await db.farm.createTask(testTask('1', { groupId: '3', state: 'queued' }));
    const deleteGroup = (before?: string) =>
      db.store.deleteGroup('3', ['1'], finals, before ? new Date(before) : undefined);
    expect((await deleteGroup()).result).toBe('changed');
    await db.redis.hset(farmKeys.task('1'), 'state', 'succeeded');
    expect((await deleteGroup(ago(60))).result).toBe('refused');
    expect((await deleteGroup(finishedAt)).result).toBe('refused');
    const before = Date.now();
    expect(await deleteGroup(new Date(Date.parse(finishedAt) + 1).toISOString())).toEqual({
      result: 'deleted',
      state: 'succeeded',
      groupId: '3',
      taskIds: ['1'],
    });
    expect(await db.redis.exists(farmKeys.group('3'))).toBe(0);
    expect(await lastEvent()).toEqual({
      type: 'group',
      groupId: '3',
      state: 'deleted',
      from: 'succeeded',
      at: writtenSince(before),
    });
  });

  it('forgets a lone silent builder, and one last seen at the epoch', async () => {
    const cutoff = Date.now() - 24 * 3600_000;
    await db.redis.zadd(farmKeys.builders, cutoff - 1000, 'gone');
    expect(await db.store.forgetBuilders(cutoff)).toBe(1);
    expect(await db.redis.exists(farmKeys.builders)).toBe(0);
    await db.redis.zadd(farmKeys.builders, 0, 'ancient');
    expect(await db.store.forgetBuilders(cutoff)).toBe(1);
    expect(await db.redis.exists(farmKeys.builders)).toBe(0);
  });
});
