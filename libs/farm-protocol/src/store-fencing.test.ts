import { beforeEach, describe, expect, it } from 'vitest';
import { queueTestTask, testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { attemptKeyHash, newAttemptKey } from './attempt-key.ts';
import { FarmStore } from './farm-store.ts';
import { readLogEntries } from './log-reader.ts';
import { activeBuildMember, farmKeys, farmNames, farmPrefixProblem, logMember } from './names.ts';
import { transitionScript } from './transition-script.ts';

/** The guarded scripts' fences (run, attempt, key), the log's end and the guarded task writes, on a real Redis. */
describe('FarmStore fencing and one writer of state', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64'];
  const at = (run: number) => ({ taskId: '1', arch: 'amd64', run, archs });

  async function claim(run: number): Promise<{ attempt: number; key: string; done: boolean; refusal: string }> {
    const key = newAttemptKey({ taskId: '1', arch: 'amd64', run });
    const outcome = await db.store.transition({
      ...at(run),
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      refuseIfCancelRequested: true,
      set: { attemptKeyHash: key.hash, builder: 'w' },
    });
    return { attempt: outcome.attempt, key: key.key, done: outcome.done, refusal: outcome.refusal };
  }

  beforeEach(async () => {
    expect(await queueTestTask(db.store, archs)).toBe('done');
  });

  it('fences run 1 off run 2 after a cancel and retry: no claim, result, upload or cancel of run 1 lands', async () => {
    const first = await claim(1);
    expect(first).toMatchObject({ done: true, attempt: 1 });
    const cancelled = await db.store.transition({ ...at(1), from: ['running'], to: 'cancelled', set: { reason: 'x' } });
    expect(cancelled.done).toBe(true);
    // A run never goes back: the same or a lower run is refused.
    const retry = ['failed', 'cancelled'] as const;
    expect(await db.store.queueBuilds({ id: '1' }, [...retry], [...retry], {}, [testBuild('1', 'amd64', 1)])).toBe(
      'refused',
    );
    expect(await db.store.queueBuilds({ id: '1' }, [...retry], [...retry], {}, [testBuild('1', 'amd64', 2)])).toBe(
      'done',
    );
    const second = await claim(2);
    expect(second).toMatchObject({ done: true, attempt: 1 });

    // The frozen worker of run 1, attempt 1 wakes: same attempt number, other run.
    expect(await claim(1)).toMatchObject({ done: false, refusal: 'run' });
    const staleHash = attemptKeyHash(first.key, { taskId: '1', arch: 'amd64', run: 1 });
    const stale = await db.store.transition({
      ...at(1),
      from: ['running'],
      to: 'failed',
      attempt: { equals: 1 },
      attemptKeyHash: staleHash,
      set: { reason: 'run 1 failed' },
    });
    expect(stale).toMatchObject({ done: false, refusal: 'run', run: 2, attempt: 1, state: 'running' });
    expect(await db.store.fence('1', 'amd64', { run: 1, attempt: 1, attemptKeyHash: staleHash })).toMatchObject({
      refusal: 'run',
    });
    const cancelOld = await db.store.transition({
      ...at(1),
      from: ['running'],
      attempt: { equals: 1 },
      set: { cancelRequested: true },
    });
    expect(cancelOld.refusal).toBe('run');
    // Run 1's key presented for run 2 does not match either: the key binds the run.
    const wrongKey = attemptKeyHash(first.key, { taskId: '1', arch: 'amd64', run: 2 });
    expect(await db.store.fence('1', 'amd64', { run: 2, attempt: 1, attemptKeyHash: wrongKey })).toMatchObject({
      refusal: 'key',
    });
    const good = attemptKeyHash(second.key, { taskId: '1', arch: 'amd64', run: 2 });
    expect(await db.store.fence('1', 'amd64', { run: 2, attempt: 1, attemptKeyHash: good })).toMatchObject({
      refusal: '',
    });
    const b = await db.store.getBuild('1', 'amd64');
    expect(b).toMatchObject({ state: 'running', run: 2, attempt: 1, cancelRequested: false });
    expect(b?.reason).toBeUndefined();
  });

  it('fences on the attempt and its key within one run', async () => {
    const first = await claim(1);
    const second = await claim(1);
    expect(second.attempt).toBe(2);
    const hash = (key: string) => attemptKeyHash(key, { taskId: '1', arch: 'amd64', run: 1 });
    expect(await db.store.fence('1', 'amd64', { run: 1, attempt: 1, attemptKeyHash: hash(first.key) })).toMatchObject({
      refusal: 'attempt',
    });
    const forged = await db.store.transition({
      ...at(1),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 2 },
      attemptKeyHash: hash('guessed'),
    });
    expect(forged.refusal).toBe('key');
    const real = await db.store.transition({
      ...at(1),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 2 },
      attemptKeyHash: hash(second.key),
    });
    expect(real.done).toBe(true);
  });

  it('refuses an attempt rule whose operator it does not know, naming it, before anything changes', async () => {
    const keys = [
      ...[farmKeys.build('1', 'amd64'), farmKeys.task('1'), farmKeys.activeBuilds, farmKeys.events],
      ...[farmKeys.log('1', 'amd64', 1), farmKeys.unarchivedLogs, farmKeys.build('1', 'amd64')],
    ];
    // ARGV as transition-script.ts lists them: a claim (queued -> running, attempt + 1) under `rule`.
    const member = [activeBuildMember('1', 'amd64'), '1', 'amd64', '100', '1', '', '', logMember('1', 'amd64', 1)];
    const claimUnder = (rule: string) =>
      db.redis.eval(
        transitionScript,
        keys.length,
        ...keys,
        'queued',
        'running',
        '1',
        rule,
        '0',
        'now',
        ...member,
        '',
        '0',
      );
    const before = [await db.store.getBuild('1', 'amd64'), await db.redis.xlen(farmKeys.events)];
    for (const [rule, op] of [
      ['~1', '~'],
      ['>0', '>'],
      ['=x', '='],
      ['<', '<'],
    ])
      await expect(claimUnder(rule as string)).rejects.toThrow(
        `attempt rule '${rule}' (operator '${op}') is not one of`,
      );
    // A request the types do not allow (an untyped caller) is refused the same way, not run without its fence.
    const untyped = db.store.transition({ ...at(1), from: ['queued'], to: 'running', attempt: { above: 0 } as never });
    await expect(untyped).rejects.toThrow("attempt rule '<undefined' (operator '<')");
    expect([await db.store.getBuild('1', 'amd64'), await db.redis.xlen(farmKeys.events)]).toEqual(before);
    expect(await claimUnder('<1')).toEqual([1, 'running', 1, 'running', 'queued', '', 1, '']);
  });

  it('ends the log in the same script as the final state, and lists it for archiving', async () => {
    await claim(1);
    await db.redis.xadd(farmKeys.log('1', 'amd64', 1), '*', 'l', 'line 1');
    await db.store.transition({
      ...at(1),
      from: ['running'],
      to: 'failed',
      set: { reason: 'boom' },
      note: 'the farm says why',
    });
    const entries = await readLogEntries(db.redis, farmKeys.log('1', 'amd64', 1), '0', 100);
    expect(entries.map((e) => e.lines)).toEqual([['line 1'], ['[aoinb] the farm says why'], []]);
    expect(entries.at(-1)?.eof).toEqual({ state: 'failed', reason: 'boom' });
    expect(await db.store.unarchivedLogs()).toEqual([{ taskId: '1', arch: 'amd64', run: 1 }]);
    // The net: a log with an end gets no second one; a log without gets one.
    expect(await db.store.endLogIfOpen('1', 'amd64', 1, 'failed', 'boom')).toBe(false);
    await db.redis.xadd(farmKeys.log('1', 'amd64', 7), '*', 'l', 'orphan');
    expect(await db.store.endLogIfOpen('1', 'amd64', 7, 'cancelled', 'gone')).toBe(true);
    const repaired = await readLogEntries(db.redis, farmKeys.log('1', 'amd64', 7), '0', 100);
    expect(repaired.at(-1)?.eof).toEqual({ state: 'cancelled', reason: 'gone' });
  });

  it('writes task fields only through guarded scripts: not while built, in a group or uploading', async () => {
    expect(await db.store.updateTask('1', ['created'], { branch: 'x' })).toMatchObject({
      done: false,
      state: 'queued',
    });
    const fresh = (id: string, fields = {}) => testTask(id, { createdBy: 'a', ...fields });
    await db.store.createTask(fresh('2'));
    await db.redis.set(farmKeys.bundleUploadLock('2'), 'owner', 'PX', 60_000);
    expect(await db.store.queueBuilds({ id: '2' }, ['created'], [], { archs }, [testBuild('2', 'amd64', 1)])).toBe(
      'uploading',
    );
    expect((await db.store.getTask('2'))?.state).toBe('created');
    await db.redis.del(farmKeys.bundleUploadLock('2'));
    await db.store.createTask(fresh('3'));
    expect(await db.store.updateTask('3', ['created'], { branch: 'stable' }, 'cancelled')).toMatchObject({
      done: true,
      state: 'cancelled',
    });
    const t3 = await db.store.getTask('3');
    expect(t3).toMatchObject({ state: 'cancelled', branch: 'stable' });
    expect(t3?.finishedAt).toBeDefined();
    const events = await db.redis.xrange(farmKeys.events, '-', '+');
    expect(events.some(([, f]) => f.join(' ').includes('taskId 3 state cancelled from created'))).toBe(true);
    await db.store.createTask(fresh('4', { groupId: '9' }));
    expect(await db.store.updateTask('4', ['created'], { branch: 'x' })).toMatchObject({ done: false, groupId: '9' });
  });

  it('records where a succeeded build was published, fenced on its run and attempt', async () => {
    await claim(1);
    const artifacts = [{ name: 'a.deb', size: 1, sha256: '0'.repeat(64), uploadedAt: new Date().toISOString() }];
    await db.store.transition({ ...at(1), from: ['running'], to: 'succeeded', set: { artifacts } });
    expect(await db.store.markPublished({ taskId: '1', arch: 'amd64', run: 1, attempt: 2 }, 'stable')).toBe(false);
    expect(await db.store.markPublished({ taskId: '1', arch: 'amd64', run: 1, attempt: 1 }, 'stable')).toBe(true);
    expect((await db.store.getBuild('1', 'amd64'))?.artifacts).toEqual([{ ...artifacts[0], publishedTo: 'stable' }]);
  });

  it('keeps two farms on one Redis apart by their key prefix (hash tags kept)', async () => {
    const a = new FarmStore(db.redis, farmNames('{aoinb-a}'));
    const b = new FarmStore(db.redis, farmNames('{aoinb-b}'));
    expect([await a.nextTaskId(), await b.nextTaskId(), await a.nextTaskId()]).toEqual(['1', '1', '2']);
    const t = testTask('1', { createdBy: 'a', archs });
    await a.createTask(t);
    expect(await a.queueBuilds(t, ['created'], [], { archs }, [testBuild('1', 'amd64', 1)])).toBe('done');
    expect(await b.getTask('1')).toBeUndefined();
    expect(await b.getBuild('1', 'amd64')).toBeUndefined();
    const keys = await db.redis.keys('{aoinb-a}*');
    expect(keys.length).toBeGreaterThan(3);
    expect(keys.every((k) => k.startsWith('{aoinb-a}:'))).toBe(true);
    expect(farmPrefixProblem('{aoinb-a}')).toBeUndefined();
    expect(farmPrefixProblem('aoinb')).toContain('hash tag');
    expect(farmPrefixProblem('{a}{b}')).toContain('hash tag');
  });
});
