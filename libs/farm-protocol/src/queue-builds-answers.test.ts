import { describe, expect, it } from 'vitest';
import { testBuild, testTask, useRedisFixture } from '@aoinb/testkit/fixtures';
import { eventCap } from './build-transition.ts';
import { FarmStore } from './farm-store.ts';
import { farmKeys } from './names.ts';

/**
 * What the (re)queue script (queue-builds-script.ts) checks and writes, where the other store tests do not
 * look: a retry of a build that is not in a retryable state (its task is), the time it stamps on the task and
 * its events, and the cap of the event stream. Each was a surviving mutant of scripts/lua-mutation.ts.
 */
describe('the queue-builds script refuses and writes exactly', () => {
  const db = useRedisFixture((redis) => ({ store: new FarmStore(redis) }));
  const archs = ['amd64', 'arm64'];
  const retry = ['failed', 'cancelled'] as const;
  const long = '2000-01-01T00:00:00.000Z';
  const events = async () => (await db.redis.xrange(farmKeys.events, '-', '+')).map(([, fields]) => fields);
  const taskEvent = (state: string, from: string, at: string) => [
    'type',
    'task',
    'taskId',
    '1',
    'state',
    state,
    'from',
    from,
    'at',
    at,
  ];

  /** Task 1 failed: its amd64 build failed, its arm64 build succeeded. */
  async function failedTask(): Promise<void> {
    await db.store.createTask(testTask('1', { archs }));
    const builds = archs.map((arch) => testBuild('1', arch, 1));
    expect(await db.store.queueBuilds({ id: '1' }, ['created'], [], { archs }, builds)).toBe('done');
    const at = { taskId: '1', run: 1, archs, from: ['queued' as const] };
    expect((await db.store.transition({ ...at, arch: 'amd64', to: 'failed' })).done).toBe(true);
    expect((await db.store.transition({ ...at, arch: 'arm64', to: 'succeeded' })).done).toBe(true);
    expect((await db.store.getTask('1'))?.state).toBe('failed');
  }

  it('refuses a retry of a build not in a named state, though its task is, and writes nothing', async () => {
    await failedTask();
    const before = { task: await db.store.getTask('1'), events: await events() };
    for (const builds of [[testBuild('1', 'arm64', 2)], archs.map((arch) => testBuild('1', arch, 2))]) {
      expect(await db.store.queueBuilds({ id: '1' }, [...retry], [...retry], {}, builds)).toBe('refused');
    }
    expect(await db.store.getBuilds('1', archs)).toMatchObject([
      { arch: 'amd64', state: 'failed', run: 1 },
      { arch: 'arm64', state: 'succeeded', run: 1 },
    ]);
    expect({ task: await db.store.getTask('1'), events: await events() }).toEqual(before);
  });

  it('takes a retried task out of its finished state: no finishedAt is left', async () => {
    await failedTask();
    expect((await db.store.getTask('1'))?.finishedAt).toBeDefined();
    expect(await db.store.queueBuilds({ id: '1' }, [...retry], [...retry], {}, [testBuild('1', 'amd64', 2)])).toBe(
      'done',
    );
    const task = await db.store.getTask('1');
    expect(task?.state).toBe('queued');
    expect(task?.finishedAt).toBeUndefined();
  });

  it('stamps the task and each event with the time of the queueing', async () => {
    await db.store.createTask(testTask('1', { archs: ['amd64'], createdAt: long, updatedAt: long }));
    const before = new Date().toISOString();
    expect(await db.store.queueBuilds({ id: '1' }, ['created'], [], {}, [testBuild('1', 'amd64', 1)])).toBe('done');
    const at = (await db.store.getTask('1'))?.updatedAt ?? '';
    expect(at >= before).toBe(true);
    const build = ['type', 'build', 'taskId', '1', 'arch', 'amd64', 'state', 'queued', 'from', '', 'builder', ''];
    expect(await events()).toEqual([
      taskEvent('created', '', long),
      [...build, 'at', at],
      taskEvent('queued', 'created', at),
    ]);
  });

  it('writes the task fields it is given on the task, and the build fields only on the build', async () => {
    await db.store.createTask(testTask('1'));
    const build = testBuild('1', 'amd64', 1);
    expect(await db.store.queueBuilds({ id: '1' }, ['created'], [], { archs: ['amd64'], branch: 'x' }, [build])).toBe(
      'done',
    );
    const task = await db.redis.hgetall(farmKeys.task('1'));
    expect(Object.keys(task).sort()).toEqual([
      'archs',
      'branch',
      'createdAt',
      'createdBy',
      'id',
      'state',
      'timeoutMs',
      'updatedAt',
    ]);
    expect(await db.store.getTask('1')).toMatchObject({ state: 'queued', archs: ['amd64'], branch: 'x' });
    expect(await db.store.getBuild('1', 'amd64')).toEqual(build);
  });

  it(`caps the event stream at ${eventCap} entries: it trims nothing below that`, async () => {
    const earlier = 300; // three of Redis's stream nodes (100 entries each): a trim to a small cap drops some
    for (let i = 0; i < earlier; i++) await db.redis.xadd(farmKeys.events, '*', 'type', 'earlier', 'n', String(i));
    await db.store.createTask(testTask('1', { archs: ['amd64'] }));
    expect(await db.store.queueBuilds({ id: '1' }, ['created'], [], {}, [testBuild('1', 'amd64', 1)])).toBe('done');
    expect(await db.redis.xlen(farmKeys.events)).toBe(earlier + 3); // with the create's event
  });
});
