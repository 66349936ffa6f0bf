import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { FarmStore } from './farm-store.ts';
import { buildJobId, farmKeys } from './names.ts';
import type { BuildRecord, TaskRecord } from './records.ts';
import { RetentionStore } from './retention-store.ts';

const archs = ['amd64', 'arm64'];

function task(id: string, fields: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString();
  return {
    id,
    state: 'created',
    createdAt: now,
    updatedAt: now,
    createdBy: 'alice',
    archs: [],
    timeoutMs: 0,
    ...fields,
  };
}

function build(taskId: string, arch: string, run: number): BuildRecord {
  const queuedAt = new Date().toISOString();
  return {
    taskId,
    arch,
    state: 'queued',
    run,
    jobId: buildJobId(taskId, arch, run),
    attempt: 0,
    cancelRequested: false,
    queuedAt,
    artifacts: [],
  };
}

describe('RetentionStore (guarded deletions in a real Redis)', () => {
  let server: RedisHandle;
  let redis: Redis;
  let farm: FarmStore;
  let store: RetentionStore;

  /** Task 1 with builds on two archs, both run 2 (one retry), finished as given; every run has a log stream. */
  async function finishedTask(states: Record<string, 'succeeded' | 'failed' | 'running'>): Promise<void> {
    await farm.createTask(task('1'));
    await farm.queueBuilds(
      { id: '1' },
      ['created'],
      [],
      { archs },
      archs.map((a) => build('1', a, 2)),
    );
    for (const arch of archs) {
      await farm.transition({
        taskId: '1',
        arch,
        run: 2,
        archs,
        from: ['queued'],
        to: 'running',
        incrementAttempt: true,
      });
      if (states[arch] !== 'running') await farm.transition({ taskId: '1', arch, run: 2, archs, to: states[arch] });
      for (const run of [1, 2]) await redis.xadd(farmKeys.log('1', arch, run), '*', 'l', 'line');
    }
  }

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    farm = new FarmStore(redis);
    store = new RetentionStore(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  const runs = archs.map((arch) => ({ arch, run: 2 }));

  it('deletes a finished task, its builds and every run’s log in one script, and lists it as pending', async () => {
    await finishedTask({ amd64: 'succeeded', arm64: 'failed' });
    expect((await farm.getTask('1'))?.state).toBe('failed');
    const outcome = await store.deleteTask({ taskId: '1', groupId: '', states: ['succeeded', 'failed'], builds: runs });
    expect(outcome).toEqual({ result: 'deleted', state: 'failed', groupId: '' });
    expect(await redis.keys('{aoinb}:task:1*')).toEqual([]);
    expect(await redis.keys('{aoinb}:log:1:*')).toEqual([]);
    expect(await redis.zscore(farmKeys.tasks, '1')).toBeNull();
    expect(await store.pending()).toEqual([{ kind: 'task', id: '1', taskIds: [] }]);
    const events = await redis.xrange(farmKeys.events, '-', '+');
    expect(events.at(-1)?.[1]).toEqual(expect.arrayContaining(['state', 'deleted', 'from', 'failed']));
    await store.donePending('task', '1');
    expect(await redis.exists(farmKeys.retentionPending)).toBe(0);
  });

  it('refuses a running build, another group, a state not allowed, a finish too recent; says when a run moved on', async () => {
    await finishedTask({ amd64: 'succeeded', arm64: 'running' });
    const base = { taskId: '1', groupId: '', states: ['succeeded', 'failed', 'running'] as const, builds: runs };
    expect(await store.deleteTask({ ...base, states: [...base.states] })).toMatchObject({
      result: 'refused',
      state: 'running',
    });
    await farm.transition({ taskId: '1', arch: 'arm64', run: 2, archs, to: 'succeeded' });
    expect((await store.deleteTask({ ...base, states: ['failed'] })).result).toBe('refused');
    expect((await store.deleteTask({ ...base, states: ['succeeded'], groupId: '7' })).result).toBe('refused');
    const hourAgo = new Date(Date.now() - 3600_000);
    expect((await store.deleteTask({ ...base, states: ['succeeded'], finishedBefore: hourAgo })).result).toBe(
      'refused',
    );
    const stale = archs.map((arch) => ({ arch, run: 1 }));
    expect((await store.deleteTask({ ...base, states: ['succeeded'], builds: stale })).result).toBe('changed');
    expect(await redis.exists(farmKeys.task('1'), farmKeys.build('1', 'amd64'))).toBe(2);
    expect(await store.pending()).toEqual([]);
    const later = new Date(Date.now() + 1000);
    expect((await store.deleteTask({ ...base, states: ['succeeded'], finishedBefore: later })).result).toBe('deleted');
    expect((await store.deleteTask({ ...base, states: ['succeeded'] })).state).toBe('');
  });

  it('deletes a finished group (not while a member runs) and keeps its member list for the tasks that follow', async () => {
    await redis.hset(farmKeys.group('3'), { id: '3', state: 'running', taskIds: JSON.stringify(['1']) });
    await redis.hset(farmKeys.groupMembers('3'), '1/amd64', '{}');
    await redis.zadd(farmKeys.groups, 3, '3');
    await redis.sadd(farmKeys.activeGroups, '3');
    await farm.createTask(task('1', { groupId: '3', state: 'running' }));
    const finals = ['succeeded', 'failed', 'partial', 'cancelled'];
    expect((await store.deleteGroup('3', ['1'], finals)).result).toBe('refused');
    await redis.hset(farmKeys.group('3'), 'state', 'succeeded', 'finishedAt', new Date().toISOString());
    expect((await store.deleteGroup('3', ['1'], finals)).result).toBe('changed');
    await redis.hset(farmKeys.task('1'), 'state', 'succeeded');
    expect((await store.deleteGroup('3', ['1'], finals, new Date(Date.now() - 1000))).result).toBe('refused');
    expect(await store.deleteGroup('3', ['1'], finals)).toEqual({
      result: 'deleted',
      state: 'succeeded',
      groupId: '3',
      taskIds: ['1'],
    });
    expect(await redis.keys('{aoinb}:group:3*')).toEqual([]);
    expect(await redis.zscore(farmKeys.groups, '3')).toBeNull();
    expect(await redis.sismember(farmKeys.activeGroups, '3')).toBe(0);
    expect(await store.pending()).toEqual([{ kind: 'group', id: '3', taskIds: ['1'] }]);
    // Its member goes with the group's id only.
    expect((await store.deleteTask({ taskId: '1', groupId: '', states: ['succeeded'], builds: [] })).result).toBe(
      'refused',
    );
    expect((await store.deleteTask({ taskId: '1', groupId: '3', states: ['succeeded'], builds: [] })).result).toBe(
      'deleted',
    );
  });

  it('forgets builders long silent whose heartbeat expired, never one that came back', async () => {
    const old = Date.now() - 10 * 24 * 3600_000;
    await redis.zadd(farmKeys.builders, old, 'gone', old, 'back', Date.now(), 'live');
    await redis.set(farmKeys.builder('back'), '{}', 'EX', 60);
    expect(await store.forgetBuilders(Date.now() - 24 * 3600_000)).toBe(1);
    expect(await redis.zrange(farmKeys.builders, 0, -1)).toEqual(['back', 'live']);
    expect(await store.forgetBuilders(Date.now() - 24 * 3600_000)).toBe(0);
  });

  it('gives the pruner lease to one holder at a time, until it is released or expires', async () => {
    expect(await store.acquireLease('a', 10_000)).toBe(true);
    expect(await store.acquireLease('b', 10_000)).toBe(false);
    expect(await store.renewLease('b', 10_000)).toBe(false);
    expect(await store.renewLease('a', 10_000)).toBe(true);
    await store.releaseLease('b');
    expect(await redis.get(farmKeys.retentionLease)).toBe('a');
    await store.releaseLease('a');
    expect(await store.acquireLease('b', 50)).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.renewLease('b', 50)).toBe(false);
    expect(await store.acquireLease('a', 10_000)).toBe(true);
  });
});
