import { describe, expect, it } from 'vitest';
import { testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';
import { RetentionStore } from './retention-store.ts';

const archs = ['amd64', 'arm64'];

describe('RetentionStore (guarded deletions in a real Redis)', () => {
  const db = useRedisFixture((redis) => ({ farm: new FarmStore(redis), store: new RetentionStore(redis) }));

  /** Task 1 with builds on two archs, both run 2 (one retry), finished as given; every run has a log stream. */
  async function finishedTask(states: Record<string, 'succeeded' | 'failed' | 'running'>): Promise<void> {
    await db.farm.createTask(testTask('1'));
    await db.farm.queueBuilds(
      { id: '1' },
      ['created'],
      [],
      { archs },
      archs.map((a) => testBuild('1', a, 2)),
    );
    for (const arch of archs) {
      await db.farm.transition({
        taskId: '1',
        arch,
        run: 2,
        archs,
        from: ['queued'],
        to: 'running',
        incrementAttempt: true,
      });
      if (states[arch] !== 'running') await db.farm.transition({ taskId: '1', arch, run: 2, archs, to: states[arch] });
      for (const run of [1, 2]) await db.redis.xadd(farmKeys.log('1', arch, run), '*', 'l', 'line');
    }
  }

  const runs = archs.map((arch) => ({ arch, run: 2 }));

  it('deletes a finished task, its builds and every run’s log in one script, and lists it as pending', async () => {
    await finishedTask({ amd64: 'succeeded', arm64: 'failed' });
    expect((await db.farm.getTask('1'))?.state).toBe('failed');
    const outcome = await db.store.deleteTask({
      taskId: '1',
      groupId: '',
      states: ['succeeded', 'failed'],
      builds: runs,
    });
    expect(outcome).toEqual({ result: 'deleted', state: 'failed', groupId: '' });
    expect(await db.redis.keys('{aoinb}:task:1*')).toEqual([]);
    expect(await db.redis.keys('{aoinb}:log:1:*')).toEqual([]);
    expect(await db.redis.zscore(farmKeys.tasks, '1')).toBeNull();
    expect(await db.store.pending()).toEqual([{ kind: 'task', id: '1', taskIds: [] }]);
    const events = await db.redis.xrange(farmKeys.events, '-', '+');
    expect(events.at(-1)?.[1]).toEqual(expect.arrayContaining(['state', 'deleted', 'from', 'failed']));
    await db.store.donePending('task', '1');
    expect(await db.redis.exists(farmKeys.retentionPending)).toBe(0);
  });

  it('refuses a running build, other group, disallowed state, recent finish; says when a run moved on', async () => {
    await finishedTask({ amd64: 'succeeded', arm64: 'running' });
    const base = { taskId: '1', groupId: '', states: ['succeeded', 'failed', 'running'] as const, builds: runs };
    expect(await db.store.deleteTask({ ...base, states: [...base.states] })).toMatchObject({
      result: 'refused',
      state: 'running',
    });
    await db.farm.transition({ taskId: '1', arch: 'arm64', run: 2, archs, to: 'succeeded' });
    expect((await db.store.deleteTask({ ...base, states: ['failed'] })).result).toBe('refused');
    expect((await db.store.deleteTask({ ...base, states: ['succeeded'], groupId: '7' })).result).toBe('refused');
    const hourAgo = new Date(Date.now() - 3600_000);
    expect((await db.store.deleteTask({ ...base, states: ['succeeded'], finishedBefore: hourAgo })).result).toBe(
      'refused',
    );
    const stale = archs.map((arch) => ({ arch, run: 1 }));
    expect((await db.store.deleteTask({ ...base, states: ['succeeded'], builds: stale })).result).toBe('changed');
    expect(await db.redis.exists(farmKeys.task('1'), farmKeys.build('1', 'amd64'))).toBe(2);
    expect(await db.store.pending()).toEqual([]);
    const later = new Date(Date.now() + 1000);
    expect((await db.store.deleteTask({ ...base, states: ['succeeded'], finishedBefore: later })).result).toBe(
      'deleted',
    );
    expect((await db.store.deleteTask({ ...base, states: ['succeeded'] })).state).toBe('');
  });

  it('deletes a finished group (not while a member runs), keeping its member list for later tasks', async () => {
    await db.redis.hset(farmKeys.group('3'), { id: '3', state: 'running', taskIds: JSON.stringify(['1']) });
    await db.redis.hset(farmKeys.groupMembers('3'), '1/amd64', '{}');
    await db.redis.zadd(farmKeys.groups, 3, '3');
    await db.redis.sadd(farmKeys.activeGroups, '3');
    await db.farm.createTask(testTask('1', { groupId: '3', state: 'running' }));
    const finals = ['succeeded', 'failed', 'partial', 'cancelled'];
    expect((await db.store.deleteGroup('3', ['1'], finals)).result).toBe('refused');
    await db.redis.hset(farmKeys.group('3'), 'state', 'succeeded', 'finishedAt', new Date().toISOString());
    expect((await db.store.deleteGroup('3', ['1'], finals)).result).toBe('changed');
    await db.redis.hset(farmKeys.task('1'), 'state', 'succeeded');
    expect((await db.store.deleteGroup('3', ['1'], finals, new Date(Date.now() - 1000))).result).toBe('refused');
    expect(await db.store.deleteGroup('3', ['1'], finals)).toEqual({
      result: 'deleted',
      state: 'succeeded',
      groupId: '3',
      taskIds: ['1'],
    });
    expect(await db.redis.keys('{aoinb}:group:3*')).toEqual([]);
    expect(await db.redis.zscore(farmKeys.groups, '3')).toBeNull();
    expect(await db.redis.sismember(farmKeys.activeGroups, '3')).toBe(0);
    expect(await db.store.pending()).toEqual([{ kind: 'group', id: '3', taskIds: ['1'] }]);
    // Its member goes with the group's id only.
    expect((await db.store.deleteTask({ taskId: '1', groupId: '', states: ['succeeded'], builds: [] })).result).toBe(
      'refused',
    );
    expect((await db.store.deleteTask({ taskId: '1', groupId: '3', states: ['succeeded'], builds: [] })).result).toBe(
      'deleted',
    );
  });

  it('forgets builders long silent whose heartbeat expired, never one that came back', async () => {
    const old = Date.now() - 10 * 24 * 3600_000;
    await db.redis.zadd(farmKeys.builders, old, 'gone', old, 'back', Date.now(), 'live');
    await db.redis.set(farmKeys.builder('back'), '{}', 'EX', 60);
    expect(await db.store.forgetBuilders(Date.now() - 24 * 3600_000)).toBe(1);
    expect(await db.redis.zrange(farmKeys.builders, 0, -1)).toEqual(['back', 'live']);
    expect(await db.store.forgetBuilders(Date.now() - 24 * 3600_000)).toBe(0);
  });
});
