import { beforeEach, describe, expect, it } from 'vitest';
import { testBuild, testBundle, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import type { GroupRecord, MemberRecord } from './group-records.ts';
import { GroupStore, type ReleaseRequest } from './group-store.ts';
import { farmKeys } from './names.ts';

// releaseMemberScript's guards and records that group-store.test.ts leaves open (the survivors of its Lua
// mutation run, docs/testing.md): a running or final group, a member that is missing, not waiting or of
// another round, the build a member had before, and the task's state and events derived from its builds.
const archs = ['amd64', 'arm64'];
const bundle = testBundle({ targets: archs });

/** A time written by the script: one between `from` and now. */
const writtenSince = (from: number) => ({
  asymmetricMatch: (value: string) => Date.parse(value) >= from && Date.parse(value) <= Date.now(),
});

describe('releaseMember edges (real redis-server)', () => {
  const db = useRedisFixture((redis) => ({ store: new GroupStore(redis), farm: new FarmStore(redis) }));
  const released: MemberRecord = { phase: 'released', round: 1, run: 1, at: new Date().toISOString() };
  const release = (arch: string, fields: Partial<ReleaseRequest> = {}) =>
    db.store.releaseMember({
      groupId: '1',
      round: 1,
      member: released,
      build: testBuild('1', arch),
      taskArchs: archs,
      ...fields,
    });
  const events = async (type: string) =>
    (await db.redis.xrange(farmKeys.events, '-', '+')).map(([, f]) => f).filter((f) => f[1] === type);

  /** Group 1 (queued, round 1) of task 1 on two archs, both members waiting. */
  beforeEach(async () => {
    await db.farm.createTask(testTask('1', { bundle }));
    const now = new Date().toISOString();
    const record: GroupRecord = {
      ...{ id: '1', state: 'queued', branch: 'stable', mode: 'dag', publish: 'each', taskIds: ['1'], archs },
      ...{ round: 1, createdBy: 'alice', createdAt: now, updatedAt: now, cancelRequested: false },
    };
    const waiting: MemberRecord = { phase: 'waiting', round: 1, run: 1, at: now };
    const members = Object.fromEntries(archs.map((a) => [`1/${a}`, waiting]));
    expect(
      await db.store.createGroup({ record, plan: [], members, tasks: [{ id: '1', archs }], timeoutMs: 1 }),
    ).toEqual({ ok: true });
  });

  it('releases in a running group, never in a final one', async () => {
    await db.store.transitionGroup('1', ['queued'], 'failed', false);
    expect(await release('amd64')).toBe(false);
    expect(await db.farm.getBuild('1', 'amd64')).toBeUndefined();
    await db.redis.hset(farmKeys.group('1'), 'state', 'running');
    expect(await release('amd64')).toBe(true);
  });

  it('refuses a member that is missing, not waiting, or waiting in another round', async () => {
    expect(await release('riscv64', { build: testBuild('1', 'riscv64') })).toBe(false);
    const skipped: MemberRecord = { phase: 'skipped', round: 1, run: 1, at: released.at };
    await db.redis.hset(farmKeys.groupMembers('1'), '1/amd64', JSON.stringify(skipped));
    expect(await release('amd64')).toBe(false);
    await db.redis.hset(
      farmKeys.groupMembers('1'),
      '1/amd64',
      JSON.stringify({ ...skipped, phase: 'waiting', round: 2 }),
    );
    expect(await release('amd64')).toBe(false);
    expect(await db.redis.exists(farmKeys.build('1', 'amd64'), farmKeys.build('1', 'riscv64'))).toBe(0);
  });

  it('replaces a failed or cancelled build with a fresh record, never a succeeded one', async () => {
    await db.redis.sadd(farmKeys.activeBuilds, '2/amd64');
    const earlier: Array<[string, string]> = [
      ['amd64', 'failed'],
      ['arm64', 'cancelled'],
    ];
    for (const [arch, state] of earlier) {
      await db.redis.hset(farmKeys.build('1', arch), { state, run: '1', error: 'it broke', builder: 'b1' });
      const before = Date.now();
      expect(await release(arch)).toBe(true);
      expect(await db.farm.getBuild('1', arch)).toEqual(testBuild('1', arch, 1, { queuedAt: expect.any(String) }));
      expect((await events('build')).at(-1)).toEqual([
        ...['type', 'build', 'taskId', '1', 'arch', arch, 'state', 'queued', 'from', state],
        ...['builder', '', 'at', writtenSince(before)],
      ]);
    }
    expect(await db.redis.smembers(farmKeys.activeBuilds)).toEqual(expect.arrayContaining(['2/amd64', '1/arm64']));

    await db.redis.hset(farmKeys.build('1', 'amd64'), 'state', 'succeeded');
    await db.redis.hset(farmKeys.groupMembers('1'), '1/amd64', JSON.stringify({ ...released, phase: 'waiting' }));
    expect(await release('amd64')).toBe(false);
    expect((await db.farm.getBuild('1', 'amd64'))?.state).toBe('succeeded');
  });

  it('derives the task’s state from all its builds, with a task event only when it changes', async () => {
    await db.redis.hset(farmKeys.task('1'), 'finishedAt', new Date().toISOString());
    const earlier = (await events('task')).length;
    const before = Date.now();
    expect(await release('amd64')).toBe(true);
    expect(await db.farm.getTask('1')).toMatchObject({ state: 'queued', updatedAt: writtenSince(before) });
    expect((await db.farm.getTask('1'))?.finishedAt).toBeUndefined();
    expect((await events('task')).slice(earlier)).toEqual([
      ['type', 'task', 'taskId', '1', 'state', 'queued', 'from', 'created', 'at', writtenSince(before)],
    ]);
    const run = { taskId: '1', arch: 'amd64', run: 1, archs, from: ['queued' as const], incrementAttempt: true };
    await db.farm.transition({ ...run, to: 'running' });
    const taskEvents = (await events('task')).length;
    // The other arch's release leaves the task running (its first build runs): no task event.
    expect(await release('arm64')).toBe(true);
    expect((await db.farm.getTask('1'))?.state).toBe('running');
    expect(await events('task')).toHaveLength(taskEvents);
  });
});
