import { beforeEach, describe, expect, it } from 'vitest';
import { testBundle, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { FarmStore } from './farm-store.ts';
import type { GroupRecord, MemberRecord } from './group-records.ts';
import { GroupStore } from './group-store.ts';
import { farmKeys } from './names.ts';

// The answers and records of the group step scripts (setMember, transitionGroup, requestCancel, startRound,
// recordDuration) that group-store.test.ts leaves open: the survivors of their Lua mutation run
// (docs/testing.md). A missing record, "any" round or state, a step that changes no state, and the times.
const now = new Date().toISOString();
const waiting: MemberRecord = { phase: 'waiting', round: 1, run: 1, at: now };

/** A time written by the script: one between `from` and now. */
const writtenSince = (from: number) => ({
  asymmetricMatch: (value: string) => Date.parse(value) >= from && Date.parse(value) <= Date.now(),
});

describe('group step scripts (real redis-server)', () => {
  const db = useRedisFixture((redis) => ({ store: new GroupStore(redis), farm: new FarmStore(redis) }));
  const groupEvents = async () =>
    (await db.redis.xrange(farmKeys.events, '-', '+')).map(([, f]) => f).filter((f) => f[1] === 'group');

  /** Group 1 (queued, round 1) of task 1 on amd64. */
  beforeEach(async () => {
    await db.farm.createTask(testTask('1', { bundle: testBundle({ version: '1', uploadedAt: now }) }));
    const record: GroupRecord = {
      ...{ id: '1', state: 'queued', branch: 'stable', mode: 'dag', publish: 'each', taskIds: ['1'], archs: [] },
      ...{ round: 1, createdBy: 'alice', createdAt: now, updatedAt: now, cancelRequested: false },
    };
    const group = { record, plan: [], members: { '1/amd64': waiting }, tasks: [{ id: '1', archs: ['amd64'] }] };
    expect(await db.store.createGroup({ ...group, timeoutMs: 1 })).toEqual({ ok: true });
  });

  it('sets a member of any round when none is given; never one that is not there', async () => {
    const skipped: MemberRecord = { ...waiting, phase: 'cancelled' };
    expect(await db.store.setMember('1', '9/amd64', ['waiting'], undefined, skipped)).toBe(false);
    expect(await db.redis.hexists(farmKeys.groupMembers('1'), '9/amd64')).toBe(0);
    expect(await db.store.setMember('1', '1/amd64', ['waiting'], undefined, skipped)).toBe(true);
    expect((await db.store.getMembers('1')).get('1/amd64')).toEqual(skipped);
  });

  it('moves a group from any state when none is given; a group that is not there stays absent', async () => {
    expect(await db.store.transitionGroup('9', [], 'failed', false)).toBeUndefined();
    expect(await db.redis.exists(farmKeys.group('9'))).toBe(0);
    const before = Date.now();
    expect(await db.store.transitionGroup('1', [], 'running', true)).toBe('queued');
    expect(await db.redis.hget(farmKeys.group('1'), 'updatedAt')).toEqual(writtenSince(before));
    expect((await groupEvents()).at(-1)).toEqual([
      ...['type', 'group', 'groupId', '1', 'state', 'running', 'from', 'queued', 'at', writtenSince(before)],
    ]);
    // A step that sets fields and keeps the state writes no event.
    const events = (await groupEvents()).length;
    expect(await db.store.transitionGroup('1', ['running'], 'running', true, { reason: 'why' })).toBe('running');
    expect((await db.store.getGroup('1'))?.reason).toBe('why');
    expect(await groupEvents()).toHaveLength(events);
  });

  it('records the first reason of a cancel asked twice, and asks it of a running group too', async () => {
    expect(await db.store.requestCancel('1', 'first')).toEqual({ asked: true, state: 'queued' });
    await db.store.transitionGroup('1', ['queued'], 'running', true);
    expect(await db.store.requestCancel('1', 'second')).toEqual({ asked: true, state: 'running' });
    expect(await db.store.getGroup('1')).toMatchObject({ cancelRequested: true, reason: 'first' });
  });

  it('starts a round only from an allowed state and the current round, each round after the other', async () => {
    const retry = { '1/amd64': { ...waiting, round: 2 } };
    const from = ['failed' as const, 'partial' as const];
    expect(await db.store.startRound('9', from, 1, [], retry)).toBeUndefined();
    expect(await db.store.startRound('1', from, 1, [], retry)).toBeUndefined(); // queued: not allowed
    await db.store.transitionGroup('1', ['queued'], 'partial', false);
    expect(await db.store.startRound('1', from, 2, [], retry)).toBeUndefined(); // not its round
    expect(await db.store.getGroup('1')).toMatchObject({ state: 'partial', round: 1 });
    const plan = [{ key: '1/amd64', taskId: '1', arch: 'amd64', package: 'p', deps: [], priority: 1 }];
    const fullPlan = plan.map((p) => ({ ...p, estimateSeconds: 1, estimateKnown: false, pathSeconds: 1 }));
    for (const round of [1, 2]) {
      const before = Date.now();
      expect(await db.store.startRound('1', from, round, fullPlan, retry)).toBe('partial');
      expect(await db.store.getGroup('1')).toMatchObject({ state: 'queued', round: round + 1 });
      expect(await db.redis.hget(farmKeys.group('1'), 'updatedAt')).toEqual(writtenSince(before));
      expect(await db.store.getPlan('1')).toEqual(fullPlan);
      expect((await groupEvents()).at(-1)).toEqual([
        ...['type', 'group', 'groupId', '1', 'state', 'queued', 'from', 'partial', 'at', writtenSince(before)],
      ]);
      await db.store.transitionGroup('1', ['queued'], 'partial', false);
    }
  });
});
