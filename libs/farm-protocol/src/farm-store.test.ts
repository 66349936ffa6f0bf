import { beforeEach, describe, expect, it } from 'vitest';
import { testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { isStale, type Refusal } from './build-transition.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

const task = (id: string) => testTask(id, { branch: 'stable' });

describe('FarmStore (task and build records in a real Redis)', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64', 'arm64'];
  const base = (arch: string, run = 1) => ({ taskId: '1', arch, run, archs });

  beforeEach(async () => {
    await db.store.createTask(task(await db.store.nextTaskId()));
    expect(
      await db.store.queueBuilds(
        { id: '1' },
        ['created'],
        [],
        { archs },
        archs.map((a) => testBuild('1', a)),
      ),
    ).toBe('done');
  });

  it('queues builds once: the task must still be created', async () => {
    expect((await db.store.getTask('1'))?.state).toBe('queued');
    expect((await db.store.getBuilds('1', archs)).map((b) => b.state)).toEqual(['queued', 'queued']);
    expect(await db.store.activeBuilds()).toHaveLength(2);
    expect(await db.store.queueBuilds({ id: '1' }, ['created'], [], {}, [testBuild('1', 'amd64')])).toBe('refused');
  });

  it('counts claims as attempts, and an attempt fences every earlier one', async () => {
    const first = await db.store.transition({
      ...base('amd64'),
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      set: { builder: 'w1' },
    });
    expect(first).toMatchObject({
      done: true,
      attempt: 1,
      state: 'running',
      taskState: 'running',
      previousState: 'queued',
    });
    const second = await db.store.transition({
      ...base('amd64'),
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      set: { builder: 'w2' },
    });
    expect(second).toMatchObject({ done: true, attempt: 2, previousState: 'running', previousBuilder: 'w1' });
    const stale = await db.store.transition({
      ...base('amd64'),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 1 },
    });
    expect(stale).toMatchObject({ done: false, refusal: 'attempt', state: 'running', attempt: 2 });
    const fresh = await db.store.transition({
      ...base('amd64'),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 2 },
      set: { reason: 'x' },
    });
    expect(fresh).toMatchObject({ done: true, state: 'succeeded', taskState: 'queued' });
    expect(await db.store.activeBuilds()).toEqual([{ taskId: '1', arch: 'arm64' }]);
  });

  it('derives the task state from all its builds', async () => {
    await db.store.transition({ ...base('arm64'), from: ['queued'], to: 'running', incrementAttempt: true });
    expect((await db.store.getTask('1'))?.state).toBe('running');
    await db.store.transition({ ...base('amd64'), from: ['queued'], to: 'failed', set: { reason: 'boom' } });
    expect((await db.store.getTask('1'))?.state).toBe('running');
    const last = await db.store.transition({
      ...base('arm64'),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 1 },
    });
    expect(last.taskState).toBe('failed');
    const t = await db.store.getTask('1');
    expect(t?.finishedAt).toBeDefined();
    const events = await db.redis.xrange(farmKeys.events, '-', '+');
    expect(events.some(([, f]) => f.includes('task') && f.includes('failed'))).toBe(true);
  });

  it('refuses a claim once a cancel was requested', async () => {
    await db.store.transition({ ...base('amd64'), from: ['queued'], set: { cancelRequested: true } });
    const claim = await db.store.transition({
      ...base('amd64'),
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      refuseIfCancelRequested: true,
    });
    expect(claim).toMatchObject({ done: false, cancelRequested: true, attempt: 0 });
    expect((await db.store.getBuild('1', 'amd64'))?.cancelRequested).toBe(true);
  });

  it('requeues only failed or cancelled builds of a finished task (retry)', async () => {
    await db.store.transition({ ...base('amd64'), from: ['queued'], to: 'failed' });
    expect(
      await db.store.queueBuilds({ id: '1' }, ['failed', 'cancelled'], ['failed', 'cancelled'], {}, [
        testBuild('1', 'amd64', 2),
      ]),
    ).toBe('refused');
    await db.store.transition({ ...base('arm64'), from: ['queued'], to: 'succeeded' });
    expect(
      await db.store.queueBuilds({ id: '1' }, ['failed', 'cancelled'], ['failed', 'cancelled'], {}, [
        testBuild('1', 'amd64', 2),
      ]),
    ).toBe('done');
    const b = await db.store.getBuild('1', 'amd64');
    expect(b).toMatchObject({ state: 'queued', run: 2, attempt: 0, jobId: 't1-amd64-r2' });
    expect(b?.reason).toBeUndefined();
    expect((await db.store.getTask('1'))?.state).toBe('queued');
  });

  it('pages through tasks newest first', async () => {
    for (let i = 0; i < 4; i++) await db.store.createTask(task(await db.store.nextTaskId()));
    expect(await db.store.listTaskIds(2)).toEqual(['5', '4']);
    expect(await db.store.listTaskIds(10, '4')).toEqual(['3', '2', '1']);
  });

  it('deletes a task only while it is created and not in a group, and never after its builds were queued', async () => {
    // Task 1 (beforeEach) is queued: refused, kept.
    expect(await db.store.deleteCreatedTask('1')).toEqual({ deleted: false, state: 'queued', groupId: '' });
    expect((await db.store.getTask('1'))?.state).toBe('queued');
    const member = { ...task(await db.store.nextTaskId()), groupId: '9' };
    await db.store.createTask(member);
    expect(await db.store.deleteCreatedTask(member.id)).toEqual({ deleted: false, state: 'created', groupId: '9' });
    // A delete racing PUT /task/:id/build: exactly one of them wins.
    const racing = task(await db.store.nextTaskId());
    await db.store.createTask(racing);
    const [deleted, queued] = await Promise.all([
      db.store.deleteCreatedTask(racing.id),
      db.store.queueBuilds(
        racing,
        ['created'],
        [],
        { archs },
        archs.map((a) => testBuild(racing.id, a)),
      ),
    ]);
    expect(deleted.deleted !== (queued === 'done')).toBe(true);
    const plain = task(await db.store.nextTaskId());
    await db.store.createTask(plain);
    expect(await db.store.deleteCreatedTask(plain.id)).toEqual({ deleted: true, state: 'created', groupId: '' });
    expect(await db.store.getTask(plain.id)).toBeUndefined();
    expect(await db.store.listTaskIds(100)).not.toContain(plain.id);
    expect(await db.store.deleteCreatedTask(plain.id)).toEqual({ deleted: false, state: '', groupId: '' });
  });

  it('keeps every field of a task and a build as written, each with its type, and unsets what it is told', async () => {
    const bundle = {
      sha256: 'b'.repeat(64),
      size: 10,
      packageName: 'p',
      version: '1.0-0',
      noarch: false,
      targets: ['amd64'],
      uploadedAt: '2026-01-01T00:00:00.000Z',
    };
    const full = testTask(await db.store.nextTaskId(), {
      branch: 'stable',
      bundle,
      archs: ['amd64', 'arm64'],
      timeoutMs: 60_000,
      groupId: '9',
      finishedAt: '2026-01-02T00:00:00.000Z',
    });
    await db.store.createTask(full);
    expect(await db.store.getTask(full.id)).toEqual(full);
    const [, created] = (await db.redis.xrevrange(farmKeys.events, '+', '-', 'COUNT', 1))[0]!;
    expect(created).toEqual(['type', 'task', 'taskId', full.id, 'state', 'created', 'from', '', 'at', full.createdAt]);
    expect(await db.store.getTasks([full.id, '999'])).toEqual([full, undefined]);
    expect(await db.store.getTasks([])).toEqual([]);

    const fields = {
      builder: 'w1',
      attemptKeyHash: 'c'.repeat(64),
      cancelRequested: true,
      startedAt: '2026-01-01T00:00:01.000Z',
      startedAtMs: 1_767_225_601_000,
      finishedAt: '2026-01-01T00:00:02.000Z',
      reason: 'boom',
      failureClass: 'build' as const,
      artifacts: [{ name: 'p_1.0-0_amd64.deb', size: 3, sha256: 'd'.repeat(64), uploadedAt: '2026-01-01T00:00:03Z' }],
      phases: { build: 1500, dependencies: 20 },
      resources: {
        cpuSeconds: 1.5,
        peakMemoryBytes: 1024,
        peakDiskBytes: 2048,
        method: 'procfs' as const,
        samples: [{ atMs: 0, cpuSeconds: 0.1, memoryBytes: 512, diskBytes: 0 }],
      },
    };
    await db.store.transition({ ...base('amd64'), from: ['queued'], to: 'failed', set: fields });
    const [amd64, arm64] = await db.store.getBuilds('1', archs);
    expect(amd64).toEqual({ ...testBuild('1', 'amd64'), queuedAt: amd64?.queuedAt, state: 'failed', ...fields });
    expect(arm64).toMatchObject({ state: 'queued', attempt: 0, cancelRequested: false, artifacts: [] });
    expect(await db.store.getBuilds('1', [])).toEqual([]);
    expect(await db.store.getBuilds('1', ['riscv64'])).toEqual([]);
    expect(await db.store.getBuild('1', 'riscv64')).toBeUndefined();

    await db.store.transition({ ...base('amd64'), unset: ['reason', 'builder'], set: { cancelRequested: false } });
    const after = await db.store.getBuild('1', 'amd64');
    expect(after).toMatchObject({ state: 'failed', cancelRequested: false, failureClass: 'build' });
    expect(after?.reason).toBeUndefined();
    expect(after?.builder).toBeUndefined();
  });

  it('calls a refusal stale only when it names another run, attempt or key', () => {
    const refusals: Refusal[] = ['', 'gone', 'run', 'attempt', 'key', 'state', 'cancel'];
    expect(refusals.filter(isStale)).toEqual(['run', 'attempt', 'key']);
  });
});
