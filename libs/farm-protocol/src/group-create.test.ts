import { beforeEach, describe, expect, it } from 'vitest';
import { testBundle, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import type { GroupRecord, MemberRecord } from './group-records.ts';
import { GroupStore, type NewGroup } from './group-store.ts';
import { farmKeys } from './names.ts';
import type { TaskRecord } from './records.ts';

// createGroupScript's answers and records that group-store.test.ts leaves open (the survivors of its Lua
// mutation run, docs/testing.md): a task that is not there, the empty group and branch fields a task may
// hold, a group id taken already, and the times and event the script writes.
const bundle = testBundle();
const task = (id: string, extra: Partial<TaskRecord> = {}) => testTask(id, { bundle, ...extra });

function newGroup(id: string, taskIds: string[]): NewGroup {
  const now = new Date().toISOString();
  const record: GroupRecord = {
    ...{ id, state: 'queued', branch: 'stable', mode: 'dag', publish: 'each', taskIds, archs: ['amd64'] },
    ...{ round: 1, createdBy: 'alice', createdAt: now, updatedAt: now, cancelRequested: false },
  };
  const members: Record<string, MemberRecord> = Object.fromEntries(
    taskIds.map((t) => [`${t}/amd64`, { phase: 'waiting', round: 1, run: 1, at: now }]),
  );
  return { record, plan: [], members, tasks: taskIds.map((t) => ({ id: t, archs: ['amd64'] })), timeoutMs: 60_000 };
}

/** A time written by the script: one between `from` and now. */
const writtenSince = (from: number) => ({
  asymmetricMatch: (value: string) => Date.parse(value) >= from && Date.parse(value) <= Date.now(),
});

describe('createGroup edges (real redis-server)', () => {
  const db = useRedisFixture((redis) => ({ store: new GroupStore(redis), farm: new FarmStore(redis) }));

  beforeEach(async () => {
    await db.farm.createTask(task('1'));
    await db.farm.createTask(task('2', { branch: 'stable' }));
  });

  it('names a task that does not exist, and claims none of the others', async () => {
    expect(await db.store.createGroup(newGroup('1', ['1', '9']))).toEqual({
      ok: false,
      taskId: '9',
      problem: 'does not exist',
    });
    expect(await db.redis.exists(farmKeys.group('1'))).toBe(0);
    expect((await db.farm.getTask('1'))?.groupId).toBeUndefined();
  });

  it('takes a task whose group and branch fields are empty, or whose branch is the group’s', async () => {
    // A task record may hold the empty string for "no group" and "no branch" (not only no field at all).
    await db.redis.hset(farmKeys.task('1'), 'groupId', '', 'branch', '');
    expect(await db.store.createGroup(newGroup('1', ['1', '2']))).toEqual({ ok: true });
    for (const id of ['1', '2']) expect(await db.farm.getTask(id)).toMatchObject({ groupId: '1', branch: 'stable' });
  });

  it('refuses a group id taken already, leaving that group and the tasks as they were', async () => {
    expect(await db.store.createGroup(newGroup('1', ['1']))).toEqual({ ok: true });
    expect(await db.store.createGroup(newGroup('1', ['2']))).toEqual({
      ok: false,
      taskId: '',
      problem: 'group 1 exists already',
    });
    expect((await db.store.getGroup('1'))?.taskIds).toEqual(['1']);
    expect([...(await db.store.getMembers('1')).keys()]).toEqual(['1/amd64']);
    expect((await db.farm.getTask('2'))?.groupId).toBeUndefined();
  });

  it('stamps the claimed tasks and writes the group’s first event at the time of the call', async () => {
    const before = Date.now();
    expect(await db.store.createGroup(newGroup('1', ['1']))).toEqual({ ok: true });
    expect(await db.redis.hget(farmKeys.task('1'), 'updatedAt')).toEqual(writtenSince(before));
    const [, fields] = (await db.redis.xrevrange(farmKeys.events, '+', '-', 'COUNT', 1))[0] ?? ['', []];
    expect(fields).toEqual([
      'type',
      'group',
      'groupId',
      '1',
      'state',
      'queued',
      'from',
      '',
      'at',
      writtenSince(before),
    ]);
  });
});
