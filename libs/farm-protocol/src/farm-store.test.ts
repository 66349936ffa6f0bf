import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { FarmStore } from './farm-store.ts';
import { buildJobId, farmKeys } from './names.ts';
import type { BuildRecord, TaskRecord } from './records.ts';

function task(id: string): TaskRecord {
  const now = new Date().toISOString();
  return {
    id,
    state: 'created',
    createdAt: now,
    updatedAt: now,
    createdBy: 'alice',
    archs: [],
    timeoutMs: 0,
    branch: 'stable',
  };
}

function build(taskId: string, arch: string, run = 1): BuildRecord {
  return {
    taskId,
    arch,
    state: 'queued',
    run,
    jobId: buildJobId(taskId, arch, run),
    attempt: 0,
    cancelRequested: false,
    queuedAt: new Date().toISOString(),
    artifacts: [],
  };
}

describe('FarmStore (task and build records in a real Redis)', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: FarmStore;
  const archs = ['amd64', 'arm64'];
  const base = (arch: string, run = 1) => ({ taskId: '1', arch, run, archs });

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new FarmStore(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    await store.createTask(task(await store.nextTaskId()));
    expect(
      await store.queueBuilds(
        { id: '1' },
        ['created'],
        [],
        { archs },
        archs.map((a) => build('1', a)),
      ),
    ).toBe('done');
  });

  it('queues builds once: the task must still be created', async () => {
    expect((await store.getTask('1'))?.state).toBe('queued');
    expect((await store.getBuilds('1', archs)).map((b) => b.state)).toEqual(['queued', 'queued']);
    expect(await store.activeBuilds()).toHaveLength(2);
    expect(await store.queueBuilds({ id: '1' }, ['created'], [], {}, [build('1', 'amd64')])).toBe('refused');
  });

  it('counts claims as attempts, and an attempt fences every earlier one', async () => {
    const first = await store.transition({
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
    const second = await store.transition({
      ...base('amd64'),
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      set: { builder: 'w2' },
    });
    expect(second).toMatchObject({ done: true, attempt: 2, previousState: 'running', previousBuilder: 'w1' });
    const stale = await store.transition({
      ...base('amd64'),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 1 },
    });
    expect(stale).toMatchObject({ done: false, refusal: 'attempt', state: 'running', attempt: 2 });
    const fresh = await store.transition({
      ...base('amd64'),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 2 },
      set: { reason: 'x' },
    });
    expect(fresh).toMatchObject({ done: true, state: 'succeeded', taskState: 'queued' });
    expect(await store.activeBuilds()).toEqual([{ taskId: '1', arch: 'arm64' }]);
  });

  it('derives the task state from all its builds', async () => {
    await store.transition({ ...base('arm64'), from: ['queued'], to: 'running', incrementAttempt: true });
    expect((await store.getTask('1'))?.state).toBe('running');
    await store.transition({ ...base('amd64'), from: ['queued'], to: 'failed', set: { reason: 'boom' } });
    expect((await store.getTask('1'))?.state).toBe('running');
    const last = await store.transition({
      ...base('arm64'),
      from: ['running'],
      to: 'succeeded',
      attempt: { equals: 1 },
    });
    expect(last.taskState).toBe('failed');
    const t = await store.getTask('1');
    expect(t?.finishedAt).toBeDefined();
    const events = await redis.xrange(farmKeys.events, '-', '+');
    expect(events.some(([, f]) => f.includes('task') && f.includes('failed'))).toBe(true);
  });

  it('refuses a claim once a cancel was requested', async () => {
    await store.transition({ ...base('amd64'), from: ['queued'], set: { cancelRequested: true } });
    const claim = await store.transition({
      ...base('amd64'),
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      refuseIfCancelRequested: true,
    });
    expect(claim).toMatchObject({ done: false, cancelRequested: true, attempt: 0 });
    expect((await store.getBuild('1', 'amd64'))?.cancelRequested).toBe(true);
  });

  it('requeues only failed or cancelled builds of a finished task (retry)', async () => {
    await store.transition({ ...base('amd64'), from: ['queued'], to: 'failed' });
    expect(
      await store.queueBuilds({ id: '1' }, ['failed', 'cancelled'], ['failed', 'cancelled'], {}, [
        build('1', 'amd64', 2),
      ]),
    ).toBe('refused');
    await store.transition({ ...base('arm64'), from: ['queued'], to: 'succeeded' });
    expect(
      await store.queueBuilds({ id: '1' }, ['failed', 'cancelled'], ['failed', 'cancelled'], {}, [
        build('1', 'amd64', 2),
      ]),
    ).toBe('done');
    const b = await store.getBuild('1', 'amd64');
    expect(b).toMatchObject({ state: 'queued', run: 2, attempt: 0, jobId: 't1-amd64-r2' });
    expect(b?.reason).toBeUndefined();
    expect((await store.getTask('1'))?.state).toBe('queued');
  });

  it('pages through tasks newest first', async () => {
    for (let i = 0; i < 4; i++) await store.createTask(task(await store.nextTaskId()));
    expect(await store.listTaskIds(2)).toEqual(['5', '4']);
    expect(await store.listTaskIds(10, '4')).toEqual(['3', '2', '1']);
  });

  it('deletes a task only while it is created and not in a group, and never after its builds were queued', async () => {
    // Task 1 (beforeEach) is queued: refused, kept.
    expect(await store.deleteCreatedTask('1')).toEqual({ deleted: false, state: 'queued', groupId: '' });
    expect((await store.getTask('1'))?.state).toBe('queued');
    const member = { ...task(await store.nextTaskId()), groupId: '9' };
    await store.createTask(member);
    expect(await store.deleteCreatedTask(member.id)).toEqual({ deleted: false, state: 'created', groupId: '9' });
    // A delete racing PUT /task/:id/build: exactly one of them wins.
    const racing = task(await store.nextTaskId());
    await store.createTask(racing);
    const [deleted, queued] = await Promise.all([
      store.deleteCreatedTask(racing.id),
      store.queueBuilds(
        racing,
        ['created'],
        [],
        { archs },
        archs.map((a) => build(racing.id, a)),
      ),
    ]);
    expect(deleted.deleted !== (queued === 'done')).toBe(true);
    const plain = task(await store.nextTaskId());
    await store.createTask(plain);
    expect(await store.deleteCreatedTask(plain.id)).toEqual({ deleted: true, state: 'created', groupId: '' });
    expect(await store.getTask(plain.id)).toBeUndefined();
    expect(await store.listTaskIds(100)).not.toContain(plain.id);
    expect(await store.deleteCreatedTask(plain.id)).toEqual({ deleted: false, state: '', groupId: '' });
  });
});
