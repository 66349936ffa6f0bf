import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import type { TransitionRequest } from './build-transition.ts';
import { FarmStore } from './farm-store.ts';
import { activeBuildMember, farmKeys, logMember } from './names.ts';

/**
 * What the transition script keeps in step with a build in the same step (transition-script.ts): the task's
 * derived state, `updatedAt` and `finishedAt` (set when the task reaches a final state, kept while it stays
 * there, absent otherwise), the active-build set (exactly the queued and running builds), and for a cancelled
 * build the end of its log and its place in the unarchived-log set. Each case was a surviving mutant of
 * scripts/lua-mutation.ts.
 */
describe('a transition keeps the task record, the active set and the log in step with its builds', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64', 'arm64'];
  const at = (arch: string, list = archs) => ({ taskId: '1', arch, run: 1, archs: list });
  const claim = (arch: string): TransitionRequest => ({
    ...at(arch),
    from: ['queued', 'running'],
    to: 'running',
    incrementAttempt: true,
    set: { builder: `w-${arch}` },
  });
  const end = (arch: string, to: 'succeeded' | 'failed'): TransitionRequest => ({ ...at(arch), from: ['running'], to });
  const cancel = (arch: string): TransitionRequest => ({
    ...at(arch),
    from: ['queued'],
    to: 'cancelled',
    set: { reason: 'no longer wanted' },
  });
  const task = () => db.redis.hgetall(farmKeys.task('1'));
  const active = async () => (await db.redis.smembers(farmKeys.activeBuilds)).sort();

  async function expectDone(req: TransitionRequest): Promise<string> {
    const outcome = await db.store.transition(req);
    expect(outcome.done).toBe(true);
    return outcome.taskState;
  }

  beforeEach(async () => {
    expect(await queueTestTask(db.store, archs)).toBe('done');
  });

  it('sets finishedAt only when the task reaches a final state, at the time it writes to updatedAt', async () => {
    const before = new Date().toISOString();
    expect(await expectDone(claim('amd64'))).toBe('running');
    const running = await task();
    expect(running.finishedAt).toBeUndefined();
    expect(running.updatedAt! >= before && running.updatedAt! <= new Date().toISOString()).toBe(true);
    await expectDone(claim('arm64'));
    expect(await expectDone(end('amd64', 'succeeded'))).toBe('running');
    expect((await task()).finishedAt).toBeUndefined();
    expect(await expectDone(end('arm64', 'succeeded'))).toBe('succeeded');
    const done = await task();
    expect(done).toMatchObject({ state: 'succeeded', finishedAt: done.updatedAt });
  });

  it('keeps finishedAt while the task stays final, and removes it from a task that is not final', async () => {
    for (const arch of archs) await expectDone(claim(arch));
    await expectDone(end('amd64', 'failed'));
    expect(await expectDone(end('arm64', 'succeeded'))).toBe('failed');
    // A change that leaves the task final (a field on an ended build) keeps the time it became final.
    const became = '2026-01-01T00:00:00.000Z';
    await db.redis.hset(farmKeys.task('1'), 'finishedAt', became);
    await expectDone({ ...at('arm64'), from: ['succeeded'], set: { reason: 'published' } });
    expect(await task()).toMatchObject({ state: 'failed', finishedAt: became });
    // A task that is not final has no finishedAt, whatever its record held before the change.
    await db.store.createTask(testTask(await db.store.nextTaskId()));
    expect(await db.store.queueBuilds({ id: '2' }, ['created'], [], { archs }, [testBuild('2', 'amd64')])).toBe('done');
    await db.redis.hset(farmKeys.task('2'), 'finishedAt', became);
    await expectDone({ ...claim('amd64'), taskId: '2', archs: ['amd64'] });
    expect(await db.redis.hget(farmKeys.task('2'), 'finishedAt')).toBeNull();
  });

  it('ends a cancelled task like any final one: finishedAt, the builds out of the active set, logs ended', async () => {
    await expectDone(cancel('amd64'));
    expect(await active()).toEqual([activeBuildMember('1', 'arm64')]);
    expect((await task()).finishedAt).toBeUndefined();
    expect(await expectDone(cancel('arm64'))).toBe('cancelled');
    const cancelled = await task();
    expect(cancelled).toMatchObject({ state: 'cancelled', finishedAt: cancelled.updatedAt });
    expect(await active()).toEqual([]);
    for (const arch of archs) {
      const entries = await db.redis.xrange(farmKeys.log('1', arch, 1), '-', '+');
      expect(entries.map(([, fields]) => fields)).toEqual([['eof', 'cancelled', 'reason', 'no longer wanted']]);
    }
    expect((await db.redis.smembers(farmKeys.unarchivedLogs)).sort()).toEqual([
      logMember('1', 'amd64', 1),
      logMember('1', 'arm64', 1),
    ]);
  });

  it('holds exactly the queued and running builds in the active set, even one it had lost', async () => {
    const both = [activeBuildMember('1', 'amd64'), activeBuildMember('1', 'arm64')];
    await expectDone(claim('amd64'));
    expect(await active()).toEqual(both);
    await db.redis.srem(farmKeys.activeBuilds, activeBuildMember('1', 'arm64'));
    await expectDone(claim('arm64'));
    expect(await active()).toEqual(both);
    // Handed back to the queue: still active.
    await expectDone({ ...at('amd64'), from: ['running'], to: 'queued', unset: ['builder'] });
    expect(await active()).toEqual(both);
    await expectDone(end('arm64', 'succeeded'));
    expect(await active()).toEqual([activeBuildMember('1', 'amd64')]);
  });

  it('derives the task state from the existing listed builds (one not written: skipped; none: created)', async () => {
    expect(await expectDone({ ...claim('amd64'), archs: [...archs, 'riscv64'] })).toBe('running');
    await expectDone({ ...end('amd64', 'succeeded'), archs: ['amd64', 'riscv64'] });
    expect(await task()).toMatchObject({ state: 'succeeded' });
    // A list none of whose builds is written counts no build: the task is `created`, as one never queued.
    const unwritten = { ...at('arm64', ['riscv64']), from: ['queued' as const], set: { reason: 'waiting' } };
    expect(await expectDone(unwritten)).toBe('created');
    expect(await expectDone({ ...unwritten, archs: [] })).toBe('created');
    expect((await task()).finishedAt).toBeUndefined();
  });
});
