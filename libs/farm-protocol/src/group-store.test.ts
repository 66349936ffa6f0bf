import { beforeEach, describe, expect, it } from 'vitest';
import { testBuild, testBundle, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import type { GroupRecord, MemberRecord } from './group-records.ts';
import { GroupStore, type NewGroup } from './group-store.ts';
import { farmKeys } from './names.ts';
import type { TaskRecord } from './records.ts';

const now = new Date().toISOString();
const bundle = testBundle({ uploadedAt: now });

/** A task ready to join a group: created, with a bundle. */
const task = (id: string, extra: Partial<TaskRecord> = {}) => testTask(id, { bundle, ...extra });

function newGroup(id: string, taskIds: string[]): NewGroup {
  const record: GroupRecord = {
    id,
    state: 'queued',
    branch: 'stable',
    mode: 'dag',
    publish: 'each',
    taskIds,
    archs: ['amd64'],
    round: 1,
    createdBy: 'alice',
    createdAt: now,
    updatedAt: now,
    cancelRequested: false,
  };
  const members: Record<string, MemberRecord> = Object.fromEntries(
    taskIds.map((t) => [`${t}/amd64`, { phase: 'waiting', round: 1, run: 1, at: now }]),
  );
  return { record, plan: [], members, tasks: taskIds.map((t) => ({ id: t, archs: ['amd64'] })), timeoutMs: 60_000 };
}

describe('GroupStore (group records and their Lua scripts in a real Redis)', () => {
  const db = useRedisFixture((redis) => ({ store: new GroupStore(redis), farm: new FarmStore(redis) }));

  beforeEach(async () => {
    for (const t of [
      task('1'),
      task('2'),
      task('3', { branch: 'other' }),
      task('4', { state: 'queued' }),
      task('5', { bundle: undefined }),
    ])
      await db.farm.createTask(t);
  });

  it('creates a group and claims its tasks in one step, or nothing at all', async () => {
    expect(await db.store.createGroup(newGroup('1', ['1', '3']))).toEqual({
      ok: false,
      taskId: '3',
      problem: 'is for branch other, the group for stable',
    });
    expect(await db.store.createGroup(newGroup('1', ['1', '4']))).toMatchObject({
      ok: false,
      taskId: '4',
      problem: expect.stringContaining('is queued'),
    });
    expect(await db.store.createGroup(newGroup('1', ['5']))).toMatchObject({
      ok: false,
      taskId: '5',
      problem: expect.stringContaining('has no bundle'),
    });
    expect(await db.store.getGroup('1')).toBeUndefined();
    expect((await db.farm.getTask('1'))?.groupId).toBeUndefined();

    expect(await db.store.createGroup(newGroup('1', ['1', '2']))).toEqual({ ok: true });
    expect(await db.farm.getTask('1')).toMatchObject({
      groupId: '1',
      branch: 'stable',
      archs: ['amd64'],
      timeoutMs: 60_000,
      state: 'created',
    });
    expect(await db.store.getGroup('1')).toMatchObject({
      id: '1',
      state: 'queued',
      taskIds: ['1', '2'],
      round: 1,
      cancelRequested: false,
    });
    expect(await db.redis.hget(farmKeys.group('1'), 'state')).toBe('queued');
    expect(await db.redis.zrange(farmKeys.groups, 0, -1)).toEqual(['1']);
    expect(await db.store.activeGroupIds()).toEqual(['1']);
    expect(await db.store.createGroup(newGroup('2', ['2']))).toMatchObject({
      ok: false,
      taskId: '2',
      problem: 'already belongs to group 1',
    });
  });

  it('releases a waiting member once: build queued, member released, task state derived', async () => {
    await db.store.createGroup(newGroup('1', ['1', '2']));
    const release = {
      groupId: '1',
      round: 1,
      member: { phase: 'released', round: 1, run: 1, at: now } as MemberRecord,
      build: testBuild('1', 'amd64'),
      taskArchs: ['amd64'],
    };
    expect(await db.store.releaseMember(release)).toBe(true);
    expect(await db.store.releaseMember(release)).toBe(false);
    expect((await db.farm.getBuild('1', 'amd64'))?.state).toBe('queued');
    expect((await db.farm.getTask('1'))?.state).toBe('queued');
    expect((await db.store.getMembers('1')).get('1/amd64')?.phase).toBe('released');
    expect(await db.redis.sismember(farmKeys.activeBuilds, '1/amd64')).toBe(1);
    expect(await db.store.releaseMember({ ...release, round: 2, build: testBuild('2', 'amd64') })).toBe(false);
    const events = (await db.redis.xrange(farmKeys.events, '-', '+')).map(([, f]) => f.join(' '));
    expect(events.some((e) => e.includes('type build taskId 1 arch amd64 state queued'))).toBe(true);
  });

  it('sets members compare-and-set, and moves the group between states', async () => {
    await db.store.createGroup(newGroup('1', ['1']));
    const skipped: MemberRecord = {
      phase: 'skipped',
      round: 1,
      run: 1,
      at: now,
      skippedBecause: { key: '2/amd64', state: 'failed', rootKey: '2/amd64', rootState: 'failed' },
    };
    expect(await db.store.setMember('1', '1/amd64', ['released'], 1, skipped)).toBe(false);
    expect(await db.store.setMember('1', '1/amd64', ['waiting'], 2, skipped)).toBe(false);
    expect(await db.store.setMember('1', '1/amd64', ['waiting'], 1, skipped)).toBe(true);
    expect((await db.store.getMembers('1')).get('1/amd64')).toEqual(skipped);

    expect(await db.store.transitionGroup('1', ['running'], 'failed', false)).toBeUndefined();
    expect(await db.store.transitionGroup('1', ['queued', 'running'], 'partial', false, { finishedAt: now })).toBe(
      'queued',
    );
    expect(await db.store.getGroup('1')).toMatchObject({ state: 'partial', finishedAt: now });
    expect(await db.store.activeGroupIds()).toEqual([]);
    expect(await db.store.transitionGroup('1', ['partial'], 'queued', true, { round: 2 }, ['finishedAt'])).toBe(
      'partial',
    );
    expect(await db.store.getGroup('1')).toMatchObject({ state: 'queued', round: 2 });
    expect((await db.store.getGroup('1'))?.finishedAt).toBeUndefined();
    expect(await db.store.activeGroupIds()).toEqual(['1']);
    const groupEvents = (await db.redis.xrange(farmKeys.events, '-', '+'))
      .map(([, f]) => f.join(' '))
      .filter((e) => e.startsWith('type group'));
    expect(groupEvents.map((e) => / state (\w+)/.exec(e)?.[1])).toEqual(['queued', 'partial', 'queued']);
  });

  it('releases a member once however many steps ask at the same moment, and never after a cancel', async () => {
    await db.store.createGroup(newGroup('1', ['1', '2']));
    const release = (taskId: string) => ({
      groupId: '1',
      round: 1,
      member: { phase: 'released', round: 1, run: 1, at: now } as MemberRecord,
      build: testBuild(taskId, 'amd64'),
      taskArchs: ['amd64'],
    });
    const answers = await Promise.all(Array.from({ length: 8 }, () => db.store.releaseMember(release('1'))));
    expect(answers.filter(Boolean)).toHaveLength(1);
    const queued = (await db.redis.xrange(farmKeys.events, '-', '+'))
      .map(([, f]) => f.join(' '))
      .filter((e) => e.includes('type build taskId 1 arch amd64 state queued'));
    expect(queued).toHaveLength(1);

    expect(await db.store.requestCancel('1', 'cancelled by alice')).toEqual({ asked: true, state: 'queued' });
    expect(await db.store.getGroup('1')).toMatchObject({ cancelRequested: true, reason: 'cancelled by alice' });
    expect(await db.store.releaseMember(release('2'))).toBe(false);
    expect((await db.store.getMembers('1')).get('2/amd64')?.phase).toBe('waiting');
    expect(await db.farm.getBuild('2', 'amd64')).toBeUndefined();
    await db.store.transitionGroup('1', ['queued'], 'cancelled', false);
    expect(await db.store.requestCancel('1', 'again')).toEqual({ asked: false, state: 'cancelled' });
    expect(await db.store.requestCancel('99', 'nobody')).toEqual({ asked: false, state: '' });
  });

  it('starts a next round once, and a step of an earlier round changes nothing after it', async () => {
    await db.store.createGroup(newGroup('1', ['1']));
    await db.store.transitionGroup('1', ['queued'], 'partial', false, { finishedAt: now });
    const members = { '1/amd64': { phase: 'waiting', round: 2, run: 2, at: now } as MemberRecord };
    const tries = await Promise.all([
      db.store.startRound('1', ['failed', 'partial', 'cancelled'], 1, [], members),
      db.store.startRound('1', ['failed', 'partial', 'cancelled'], 1, [], members),
    ]);
    expect(tries.filter((t) => t === 'partial')).toHaveLength(1);
    expect(await db.store.getGroup('1')).toMatchObject({ state: 'queued', round: 2, cancelRequested: false });
    expect((await db.store.getGroup('1'))?.finishedAt).toBeUndefined();
    expect(await db.store.activeGroupIds()).toEqual(['1']);
    expect((await db.store.getMembers('1')).get('1/amd64')).toEqual(members['1/amd64']);
    // A step that still saw round 1 wants to settle it: refused, round 2 stays queued.
    expect(await db.store.transitionGroup('1', ['queued', 'running'], 'failed', false, {}, [], 1)).toBeUndefined();
    expect(await db.store.transitionGroup('1', ['queued'], 'running', true, {}, [], 2)).toBe('queued');
  });

  it('keeps the last five durations of a package per arch', async () => {
    for (const s of [10, 20, 30, 40, 50, 60]) await db.store.recordDuration('p', 'amd64', s);
    expect(await db.store.durations(['p/amd64', 'q/amd64'])).toEqual(new Map([['p/amd64', [20, 30, 40, 50, 60]]]));
  });
});
