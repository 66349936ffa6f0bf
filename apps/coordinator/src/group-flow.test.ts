import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmDeadlineMs, farmTokens } from '@aoinb/farm-harness';
import { groupStatus, member, postGroup, uploadTasks, waitForGroup } from '@aoinb/farm-harness';
import { packTestBundle, type TestBundle } from '@aoinb/farm-harness';

/**
 * How a group's round moves as a BullMQ flow (docs/groups.md): the round's
 * parent job gains a child per released member and waits in
 * `waiting-children`; nothing is parked. A real redis-server, the coordinator
 * and worker agents as processes on the fake executor.
 */
describe('group round flow (step-jobs parent)', () => {
  let farm: FarmHarness;
  let redis: Redis;
  const maintainer = { token: farmTokens.maintainer };
  const pack = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const on = (arch: string, name: string, defines: string[] = [], durationMs = 300): Promise<Buffer> =>
    pack({ name, defines: [`ALLOW_ARCH="${arch}"`, ...defines], fake: { durationMs } });
  const group = async (bundles: Array<Promise<Buffer>>): Promise<{ id: string; tasks: string[] }> => {
    const tasks = await uploadTasks(farm, await Promise.all(bundles));
    const created = await postGroup(farm, { branch: 'stable', tasks });
    if (created.status !== 201) throw new Error(`POST /group: ${created.status} ${created.text}`);
    return { id: (created.body as { id: string }).id, tasks };
  };
  const parentIn = async (id: string, state: string): Promise<boolean> =>
    (await redis.zscore(`{aoinb}:group-flow:${state}`, `g${id}-r1`)) !== null;
  const queuedEvents = async (taskId: string): Promise<number> =>
    (await redis.xrange('{aoinb}:events', '-', '+'))
      .map(([, f]) => f.join(' '))
      .filter((e) => e.startsWith(`type build taskId ${taskId} `) && / state queued /.test(e)).length;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64', 'riscv64'], noarchArch: 'amd64' });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'wa', archs: ['amd64'] });
    redis = new Redis(farm.redis.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await farm?.stop();
  });

  it('restores a released member whose job a crash lost before it was added: built once, after a restart', async () => {
    // No riscv64 host yet: the released member's job waits in its queue, a child of the round's parent.
    const { id, tasks } = await group([on('riscv64', 'rr-base'), on('riscv64', 'rr-top', ['BUILDDEP="rr-base"'])]);
    const [base, top] = tasks as [string, string];
    await farm.waitFor(() => parentIn(id, 'waiting-children'), farmDeadlineMs, 'the parent to wait for its children');
    const jobId = `t${base}-riscv64-r1`;
    expect(await redis.hget(`{aoinb}:build-riscv64:${jobId}`, 'parentKey')).toBe(`{aoinb}:group-flow:g${id}-r1`);
    expect(await redis.exists(`{aoinb}:build-riscv64:t${top}-riscv64-r1`)).toBe(0);

    // What a coordinator that died between the release (build queued) and the add of the job leaves behind.
    await farm.kill('coordinator', 'SIGKILL');
    const queue = new Queue('build-riscv64', { connection: { url: farm.redis.url }, prefix: '{aoinb}' });
    try {
      expect(await queue.remove(jobId)).toBe(1);
    } finally {
      await queue.close();
    }
    expect(await redis.hget(`{aoinb}:task:${base}:build:riscv64`, 'state')).toBe('queued');

    await farm.startCoordinator();
    await farm.startWorker({ id: 'wr', archs: ['riscv64'] });
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    expect(member(done, 'rr-base')).toMatchObject({ run: 1, attempt: 1, builder: 'wr' });
    expect(member(done, 'rr-top')).toMatchObject({ run: 1, attempt: 1 });
    expect(await queuedEvents(base)).toBe(1);
    expect(await queuedEvents(top)).toBe(1);
    await farm.waitFor(() => parentIn(id, 'completed'), farmDeadlineMs, 'the parent job to complete');
    // The riscv64 host is this test's: the next test builds on amd64 only.
    await farm.kill('wr');
  });

  it('cancels a group whose round parent waits on a running child: the parent completes, nothing queued', async () => {
    const { id, tasks } = await group([
      on('amd64', 'cw-long', [], 60_000),
      on('amd64', 'cw-after', ['BUILDDEP="cw-long"']),
    ]);
    await farm.waitFor(
      async () => member(await groupStatus(farm, id), 'cw-long').state === 'running',
      farmDeadlineMs,
      'cw-long to run',
    );
    await farm.waitFor(() => parentIn(id, 'waiting-children'), farmDeadlineMs, 'the parent to wait for cw-long');
    expect((await farm.api('POST', `/group/${id}/cancel`, undefined, maintainer)).status).toBe(202);
    const end = await waitForGroup(farm, id, ['cancelled']);
    expect(member(end, 'cw-long')).toMatchObject({ state: 'cancelled', reason: 'cancelled by maintainer-user' });
    expect(member(end, 'cw-after')).toMatchObject({ state: 'cancelled', job_id: null, started_at: null });
    await farm.waitFor(() => parentIn(id, 'completed'), farmDeadlineMs, 'the parent job to complete');
    expect(await redis.exists(`{aoinb}:build-amd64:t${tasks[1]}-amd64-r1`)).toBe(0);
    expect(await redis.llen('{aoinb}:build-amd64:wait')).toBe(0);
    expect(await redis.zcard('{aoinb}:build-amd64:prioritized')).toBe(0);
    expect((await farm.api('POST', `/group/${id}/cancel`, undefined, maintainer)).status).toBe(409);

    // A retry is a new round with a parent of its own; the cancelled round's parent stays completed.
    expect((await farm.api('POST', `/group/${id}/retry`, undefined, maintainer)).status).toBe(202);
    expect(await redis.zscore('{aoinb}:group-flow:completed', `g${id}-r1`)).not.toBeNull();
    expect(await redis.exists(`{aoinb}:group-flow:g${id}-r2`)).toBe(1);
    await farm.api('POST', `/group/${id}/cancel`, undefined, maintainer);
    await waitForGroup(farm, id, ['cancelled']);
  });
});
