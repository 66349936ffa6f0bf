import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { FarmStore } from './farm-store.ts';
import type { GroupRecord, MemberRecord } from './group-records.ts';
import { GroupStore, type NewGroup } from './group-store.ts';
import { buildJobId, farmKeys } from './names.ts';
import type { BuildRecord, TaskRecord } from './records.ts';

const now = new Date().toISOString();
const bundle = {
  sha256: 'a'.repeat(64),
  size: 1,
  packageName: 'p',
  version: '1.0-0',
  noarch: false,
  targets: ['amd64'],
  uploadedAt: now,
};

function task(id: string, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    state: 'created',
    createdAt: now,
    updatedAt: now,
    createdBy: 'alice',
    archs: [],
    timeoutMs: 0,
    bundle,
    ...extra,
  };
}

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

function build(taskId: string, run = 1): BuildRecord {
  return {
    taskId,
    arch: 'amd64',
    state: 'queued',
    run,
    jobId: buildJobId(taskId, 'amd64', run),
    attempt: 0,
    cancelRequested: false,
    queuedAt: now,
    artifacts: [],
  };
}

describe('GroupStore (group records and their Lua scripts in a real Redis)', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: GroupStore;
  let farm: FarmStore;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new GroupStore(redis);
    farm = new FarmStore(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    for (const t of [
      task('1'),
      task('2'),
      task('3', { branch: 'other' }),
      task('4', { state: 'queued' }),
      task('5', { bundle: undefined }),
    ])
      await farm.createTask(t);
  });

  it('creates a group and claims its tasks in one step, or nothing at all', async () => {
    expect(await store.createGroup(newGroup('1', ['1', '3']))).toEqual({
      ok: false,
      taskId: '3',
      problem: 'is for branch other, the group for stable',
    });
    expect(await store.createGroup(newGroup('1', ['1', '4']))).toMatchObject({
      ok: false,
      taskId: '4',
      problem: expect.stringContaining('is queued'),
    });
    expect(await store.createGroup(newGroup('1', ['5']))).toMatchObject({
      ok: false,
      taskId: '5',
      problem: expect.stringContaining('has no bundle'),
    });
    expect(await store.getGroup('1')).toBeUndefined();
    expect((await farm.getTask('1'))?.groupId).toBeUndefined();

    expect(await store.createGroup(newGroup('1', ['1', '2']))).toEqual({ ok: true });
    expect(await farm.getTask('1')).toMatchObject({
      groupId: '1',
      branch: 'stable',
      archs: ['amd64'],
      timeoutMs: 60_000,
      state: 'created',
    });
    expect(await store.getGroup('1')).toMatchObject({
      id: '1',
      state: 'queued',
      taskIds: ['1', '2'],
      round: 1,
      cancelRequested: false,
    });
    expect(await redis.hget(farmKeys.group('1'), 'state')).toBe('queued');
    expect(await redis.zrange(farmKeys.groups, 0, -1)).toEqual(['1']);
    expect(await store.activeGroupIds()).toEqual(['1']);
    expect(await store.createGroup(newGroup('2', ['2']))).toMatchObject({
      ok: false,
      taskId: '2',
      problem: 'already belongs to group 1',
    });
  });

  it('releases a waiting member once: build queued, member released, task state derived', async () => {
    await store.createGroup(newGroup('1', ['1', '2']));
    const release = {
      groupId: '1',
      round: 1,
      member: { phase: 'released', round: 1, run: 1, at: now } as MemberRecord,
      build: build('1'),
      taskArchs: ['amd64'],
    };
    expect(await store.releaseMember(release)).toBe(true);
    expect(await store.releaseMember(release)).toBe(false);
    expect((await farm.getBuild('1', 'amd64'))?.state).toBe('queued');
    expect((await farm.getTask('1'))?.state).toBe('queued');
    expect((await store.getMembers('1')).get('1/amd64')?.phase).toBe('released');
    expect(await redis.sismember(farmKeys.activeBuilds, '1/amd64')).toBe(1);
    expect(await store.releaseMember({ ...release, round: 2, build: build('2') })).toBe(false);
    const events = (await redis.xrange(farmKeys.events, '-', '+')).map(([, f]) => f.join(' '));
    expect(events.some((e) => e.includes('type build taskId 1 arch amd64 state queued'))).toBe(true);
  });

  it('sets members compare-and-set, and moves the group between states', async () => {
    await store.createGroup(newGroup('1', ['1']));
    const skipped: MemberRecord = {
      phase: 'skipped',
      round: 1,
      run: 1,
      at: now,
      skippedBecause: { key: '2/amd64', state: 'failed', rootKey: '2/amd64', rootState: 'failed' },
    };
    expect(await store.setMember('1', '1/amd64', ['released'], 1, skipped)).toBe(false);
    expect(await store.setMember('1', '1/amd64', ['waiting'], 2, skipped)).toBe(false);
    expect(await store.setMember('1', '1/amd64', ['waiting'], 1, skipped)).toBe(true);
    expect((await store.getMembers('1')).get('1/amd64')).toEqual(skipped);

    expect(await store.transitionGroup('1', ['running'], 'failed', false)).toBeUndefined();
    expect(await store.transitionGroup('1', ['queued', 'running'], 'partial', false, { finishedAt: now })).toBe(
      'queued',
    );
    expect(await store.getGroup('1')).toMatchObject({ state: 'partial', finishedAt: now });
    expect(await store.activeGroupIds()).toEqual([]);
    expect(await store.transitionGroup('1', ['partial'], 'queued', true, { round: 2 }, ['finishedAt'])).toBe('partial');
    expect(await store.getGroup('1')).toMatchObject({ state: 'queued', round: 2 });
    expect((await store.getGroup('1'))?.finishedAt).toBeUndefined();
    expect(await store.activeGroupIds()).toEqual(['1']);
    const groupEvents = (await redis.xrange(farmKeys.events, '-', '+'))
      .map(([, f]) => f.join(' '))
      .filter((e) => e.startsWith('type group'));
    expect(groupEvents.map((e) => / state (\w+)/.exec(e)?.[1])).toEqual(['queued', 'partial', 'queued']);
  });

  it('releases a member once however many steps ask at the same moment, and never after a cancel', async () => {
    await store.createGroup(newGroup('1', ['1', '2']));
    const release = (taskId: string) => ({
      groupId: '1',
      round: 1,
      member: { phase: 'released', round: 1, run: 1, at: now } as MemberRecord,
      build: build(taskId),
      taskArchs: ['amd64'],
    });
    const answers = await Promise.all(Array.from({ length: 8 }, () => store.releaseMember(release('1'))));
    expect(answers.filter(Boolean)).toHaveLength(1);
    const queued = (await redis.xrange(farmKeys.events, '-', '+'))
      .map(([, f]) => f.join(' '))
      .filter((e) => e.includes('type build taskId 1 arch amd64 state queued'));
    expect(queued).toHaveLength(1);

    expect(await store.requestCancel('1', 'cancelled by alice')).toEqual({ asked: true, state: 'queued' });
    expect(await store.getGroup('1')).toMatchObject({ cancelRequested: true, reason: 'cancelled by alice' });
    expect(await store.releaseMember(release('2'))).toBe(false);
    expect((await store.getMembers('1')).get('2/amd64')?.phase).toBe('waiting');
    expect(await farm.getBuild('2', 'amd64')).toBeUndefined();
    await store.transitionGroup('1', ['queued'], 'cancelled', false);
    expect(await store.requestCancel('1', 'again')).toEqual({ asked: false, state: 'cancelled' });
    expect(await store.requestCancel('99', 'nobody')).toEqual({ asked: false, state: '' });
  });

  it('starts a next round once, and a step of an earlier round changes nothing after it', async () => {
    await store.createGroup(newGroup('1', ['1']));
    await store.transitionGroup('1', ['queued'], 'partial', false, { finishedAt: now });
    const members = { '1/amd64': { phase: 'waiting', round: 2, run: 2, at: now } as MemberRecord };
    const tries = await Promise.all([
      store.startRound('1', ['failed', 'partial', 'cancelled'], 1, [], members),
      store.startRound('1', ['failed', 'partial', 'cancelled'], 1, [], members),
    ]);
    expect(tries.filter((t) => t === 'partial')).toHaveLength(1);
    expect(await store.getGroup('1')).toMatchObject({ state: 'queued', round: 2, cancelRequested: false });
    expect((await store.getGroup('1'))?.finishedAt).toBeUndefined();
    expect(await store.activeGroupIds()).toEqual(['1']);
    expect((await store.getMembers('1')).get('1/amd64')).toEqual(members['1/amd64']);
    // A step that still saw round 1 wants to settle it: refused, round 2 stays queued.
    expect(await store.transitionGroup('1', ['queued', 'running'], 'failed', false, {}, [], 1)).toBeUndefined();
    expect(await store.transitionGroup('1', ['queued'], 'running', true, {}, [], 2)).toBe('queued');
  });

  it('keeps the last five durations of a package per arch', async () => {
    for (const s of [10, 20, 30, 40, 50, 60]) await store.recordDuration('p', 'amd64', s);
    expect(await store.durations(['p/amd64', 'q/amd64'])).toEqual(new Map([['p/amd64', [20, 30, 40, 50, 60]]]));
  });
});
