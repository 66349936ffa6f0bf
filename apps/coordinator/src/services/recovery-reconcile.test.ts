import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { farmTokens } from '@aoinb/farm-harness';
import { activeBuildMember, buildJobId, buildQueueName, queueConnection, readLogEntries } from '@aoinb/farm-protocol';
import { inject } from '../../test-support/inject-fixture.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';
import { failLostJob, reconcileBuild, requeueLostBuild } from './recovery.ts';
import { jobDataFor } from './task-service.ts';

/**
 * Reconciling one live build with its job, in process over a real redis-server: a missing job is added
 * again, a running build whose job is back in the queue is queued again (or its waiting cancel finished),
 * a job that ended outside a worker's report fails its build, and a final build left in the live set gets
 * its log's end. The test plays the worker through the store and a BullMQ worker of its own.
 */
describe('reconciling a live build with its job', () => {
  const rig = useServiceRig({ archs: ['amd64'] });
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  const build = async (id: string) => (await rig.ctx.store.getBuild(id, 'amd64'))!;
  const task = async (id: string) => (await rig.ctx.store.getTask(id))!;
  const jobOf = async (id: string) => rig.ctx.dispatcher.getJob('amd64', (await build(id)).jobId);
  const entries = (id: string, run = 1) => readLogEntries(rig.ctx.redis, rig.ctx.keys.log(id, 'amd64', run), '0', 1000);
  const warned = (msg: string, id: string) => rig.logs.filter((l) => l.msg === msg && l.taskId === id);

  /** A BullMQ worker of this test takes the build's job (lock 30 s) and the build is claimed. */
  async function taken(name: string): Promise<{ id: string; job: Job; token: string }> {
    // Earlier tests' jobs still wait in the queue (their builds are done with): the next job must be this one.
    await rig.ctx.dispatcher.queue('amd64').drain();
    const id = await rig.queued({ name }, ['amd64']);
    const worker = new Worker(buildQueueName('amd64'), null, {
      connection: queueConnection(rig.ctx.connection) as ConnectionOptions,
      prefix: rig.ctx.keys.prefix,
      lockDuration: 30_000,
      autorun: false,
    });
    workers.push(worker);
    const token = `${name}-token`;
    const job = await worker.getNextJob(token, { block: false });
    expect(job.id).toBe((await build(id)).jobId);
    await rig.claim(id, 'amd64', `${name}-host`);
    return { id, job, token };
  }

  it("adds a live build's missing job again, unless a layer over builds restores it itself", async () => {
    const id = await rig.queued({ name: 'jobless' }, ['amd64']);
    const jobId = (await build(id)).jobId;
    expect(await rig.ctx.dispatcher.queue('amd64').remove(jobId)).toBe(1);
    await reconcileBuild(rig.ctx, id, 'amd64');
    const job = await jobOf(id);
    expect([await job?.getState(), job?.data.taskId, job?.data.run]).toEqual(['waiting', id, 1]);
    expect(warned('job of a live build was missing; added it again', id)).toEqual([
      expect.objectContaining({ level: 40, arch: 'amd64', jobId }),
    ]);

    const owned = await rig.queued({ name: 'owned' }, ['amd64']);
    const unregister = rig.ctx.lifecycle.register({ restoreJob: async (t) => t.id === owned });
    try {
      await rig.ctx.dispatcher.queue('amd64').remove((await build(owned)).jobId);
      await reconcileBuild(rig.ctx, owned, 'amd64');
      expect(await jobOf(owned)).toBeUndefined();
    } finally {
      unregister();
    }
  });

  it('queues a running build whose job is back in the queue, fenced on the attempt it read', async () => {
    const id = await rig.queued({ name: 'requeued' }, ['amd64']);
    await rig.claim(id, 'amd64', 'gone-host');
    await reconcileBuild(rig.ctx, id, 'amd64');
    expect(await build(id)).toMatchObject({ state: 'queued', attempt: 1 });
    expect((await build(id)).builder).toBeUndefined();
    expect((await entries(id)).flatMap((e) => e.lines)).toEqual([
      '[aoinb] builder gone-host stopped answering during attempt 1; the build is back in the queue',
    ]);
    expect(warned('builder lost; job back in the queue', id)).toHaveLength(1);

    // A job added back with a priority waits as `prioritized`: the same for recovery.
    const prio = await rig.queued({ name: 'prioritized' }, ['amd64']);
    await rig.ctx.dispatcher.queue('amd64').remove((await build(prio)).jobId);
    await rig.ctx.dispatcher.enqueue(jobDataFor(await task(prio), 'amd64', 1), 5);
    expect(await (await jobOf(prio))?.getState()).toBe('prioritized');
    await rig.claim(prio, 'amd64', 'gone-host');
    await reconcileBuild(rig.ctx, prio, 'amd64');
    expect(await build(prio)).toMatchObject({ state: 'queued' });

    const raced = await rig.queued({ name: 'raced' }, ['amd64']);
    await rig.claim(raced, 'amd64', 'old-host');
    const read = await build(raced);
    await rig.claim(raced, 'amd64', 'new-host');
    await requeueLostBuild(rig.ctx, await task(raced), read);
    expect(await build(raced)).toMatchObject({ state: 'running', attempt: 2, builder: 'new-host' });
    expect(warned('builder lost; job back in the queue', raced)).toEqual([]);
  });

  it('finishes the cancel a lost running build waited for: cancelled, its job removed, its log ended', async () => {
    const id = await rig.queued({ name: 'cancel-lost' }, ['amd64']);
    await rig.claim(id, 'amd64', 'gone-host');
    const cancel = await inject(rig.app, 'POST', `/task/${id}/cancel`, { token: farmTokens.maintainer });
    expect(cancel.statusCode).toBe(202);
    await reconcileBuild(rig.ctx, id, 'amd64');
    const reason = 'cancelled by maintainer-user';
    expect(await build(id)).toMatchObject({ state: 'cancelled', failureClass: 'cancelled', reason });
    expect((await build(id)).finishedAt).toEqual(expect.any(String));
    expect(await jobOf(id)).toBeUndefined();
    expect((await entries(id)).at(-1)).toMatchObject({ eof: { state: 'cancelled', reason } });
    expect(await rig.endOf(id, 'amd64', 0)).toMatchObject({ state: 'cancelled' });
    expect(await rig.ctx.redis.sismember(rig.ctx.keys.activeBuilds, activeBuildMember(id, 'amd64'))).toBe(0);
  });

  it('fails a build whose job completed without a report, or failed outside one, saying which', async () => {
    const quiet = await taken('no-report');
    await quiet.job.moveToCompleted('done', quiet.token, false);
    await reconcileBuild(rig.ctx, quiet.id, 'amd64');
    const silent = 'the worker finished without reporting a result';
    expect(await build(quiet.id)).toMatchObject({ state: 'failed', reason: silent, failureClass: 'infrastructure' });
    expect((await entries(quiet.id)).map((e) => e.lines.concat(e.eof ? [e.eof.state, e.eof.reason] : []))).toEqual([
      [`[aoinb] ${silent}`],
      ['failed', silent],
    ]);
    expect(await rig.endOf(quiet.id, 'amd64', 0)).toMatchObject({ state: 'failed', reason: silent });
    expect(warned('build failed outside a worker report', quiet.id)).toEqual([
      expect.objectContaining({ reason: silent, arch: 'amd64' }),
    ]);

    // A job failed in BullMQ: the coordinator hears it (its failed-job listener) and fails the build itself.
    const broken = await taken('job-failed');
    await broken.job.moveToFailed(new Error('the agent lost its disk'), broken.token, false);
    const ended = await rig.endOf(broken.id, 'amd64');
    const why = 'the job failed: the agent lost its disk';
    expect(ended).toMatchObject({ state: 'failed', reason: why });
    expect(await build(broken.id)).toMatchObject({ state: 'failed', reason: why, failureClass: 'lost-host' });
    // Asked again (a second coordinator's listener): fenced, nothing more happens.
    await failLostJob(rig.ctx, await task(broken.id), { ...(await build(broken.id)), state: 'running' }, broken.job);
    expect(warned('build failed outside a worker report', broken.id)).toHaveLength(1);
  });

  it('leaves a running build with a held job and a queued build with a waiting job as they are', async () => {
    const held = await taken('held');
    await reconcileBuild(rig.ctx, held.id, 'amd64');
    expect(await build(held.id)).toMatchObject({ state: 'running', attempt: 1, builder: 'held-host' });
    expect(await held.job.getState()).toBe('active');
    // Failing a lost job is fenced on the attempt read: a worker that claimed the build since wins.
    const read = await build(held.id);
    await rig.claim(held.id, 'amd64', 'next-host');
    await failLostJob(rig.ctx, await task(held.id), read, held.job);
    expect(await build(held.id)).toMatchObject({ state: 'running', attempt: 2, builder: 'next-host' });
    // A build of an arch with no queue here (another coordinator's) is not this one's to repair.
    const amd64 = await build(held.id);
    const foreign = { ...amd64, arch: 'loong64', jobId: buildJobId(held.id, 'loong64', 1), state: 'queued' as const };
    expect(await rig.ctx.store.queueBuilds({ id: held.id }, ['running'], [], {}, [foreign])).toBe('done');
    await reconcileBuild(rig.ctx, held.id, 'loong64');
    expect(await rig.ctx.store.getBuild(held.id, 'loong64')).toMatchObject({ state: 'queued' });
    const waiting = await rig.queued({ name: 'patient' }, ['amd64']);
    await reconcileBuild(rig.ctx, waiting, 'amd64');
    expect(await build(waiting)).toMatchObject({ state: 'queued' });
    expect(await (await jobOf(waiting))?.getState()).toBe('waiting');
    expect(rig.logs.filter((l) => l.level >= 40 && (l.taskId === held.id || l.taskId === waiting))).toEqual([]);
  });

  it('ends the log of a final build left in the live set, and drops it and any build that is gone', async () => {
    const id = await rig.queued({ name: 'endless' }, ['amd64']);
    await rig.claim(id, 'amd64', 'some-host');
    const t = await task(id);
    const failed = { taskId: id, arch: 'amd64', run: 1, archs: t.archs, set: { reason: 'it broke' } };
    expect((await rig.ctx.store.transition({ ...failed, from: ['running'], to: 'failed' })).done).toBe(true);
    // A crash took the log's end and left the build in the live set.
    const last = (await entries(id)).at(-1)!;
    expect(last.eof?.state).toBe('failed');
    await rig.ctx.redis.xdel(rig.ctx.keys.log(id, 'amd64', 1), last.id);
    await rig.ctx.redis.sadd(
      rig.ctx.keys.activeBuilds,
      activeBuildMember(id, 'amd64'),
      activeBuildMember('8888', 'amd64'),
    );
    // Gone: a task deleted under its live build, an arch the task does not build, a task that never was.
    const ghost = await rig.queued({ name: 'ghost' }, ['amd64']);
    await rig.ctx.redis.del(rig.ctx.keys.task(ghost));
    await rig.ctx.redis.sadd(rig.ctx.keys.activeBuilds, activeBuildMember(id, 'arm64'));
    for (const [taskId, arch] of [
      [id, 'amd64'],
      [ghost, 'amd64'],
      [id, 'arm64'],
      ['8888', 'amd64'],
    ] as const)
      await reconcileBuild(rig.ctx, taskId, arch);
    for (const member of [activeBuildMember(ghost, 'amd64'), activeBuildMember(id, 'arm64')])
      expect(await rig.ctx.redis.sismember(rig.ctx.keys.activeBuilds, member)).toBe(0);
    expect(await entries(ghost)).toEqual([]);
    expect((await entries(id)).at(-1)).toMatchObject({ eof: { state: 'failed', reason: 'it broke' } });
    expect(warned('a final build had a log without an end; ended it', id)).toHaveLength(1);
    expect(await rig.ctx.redis.sismember(rig.ctx.keys.activeBuilds, activeBuildMember(id, 'amd64'))).toBe(0);
    expect(await rig.ctx.redis.sismember(rig.ctx.keys.activeBuilds, activeBuildMember('8888', 'amd64'))).toBe(0);
  });
});
