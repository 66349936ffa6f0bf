import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { buildQueueName, queueConnection, readLogEntries } from '@aoinb/farm-protocol';
import { useServiceRig } from '../../test-support/service-rig.ts';

/**
 * The coordinator's own recovery of lost jobs, in process over a real redis-server: each arch here has one
 * stand-in worker at most, a BullMQ worker of this test that takes the job and then stops answering (its
 * lock is never renewed), so only the coordinator's stalled checker can bring the job back (stalled checks
 * every second; a job may come back once, `max_stalled_count = 1`, and fails on its next loss).
 */
describe('recovery of jobs whose only worker was lost', () => {
  const rig = useServiceRig({ archs: ['amd64'], maxStalledCount: 1 });
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  /** A BullMQ worker with no processor: it takes a job by hand and never renews its 500 ms lock. */
  function standIn(arch: string): Worker {
    const worker = new Worker(buildQueueName(arch), null, {
      connection: queueConnection(rig.ctx.connection) as ConnectionOptions,
      prefix: rig.ctx.keys.prefix,
      lockDuration: 500,
      autorun: false,
    });
    workers.push(worker);
    return worker;
  }

  /** The stand-in takes the build's job and claims the build as a worker would; then it is lost. */
  async function takeAndLose(id: string, arch: string, builder: string): Promise<Job> {
    const job = await standIn(arch).getNextJob(`${builder}-token`, { block: false });
    expect(job?.id).toBe((await rig.ctx.store.getBuild(id, arch))?.jobId);
    await rig.claim(id, arch, builder);
    return job;
  }
  const logText = async (id: string, arch: string) =>
    (await readLogEntries(rig.ctx.redis, rig.ctx.keys.log(id, arch, 1), '0', 1000)).flatMap((e) => e.lines);

  // One scenario in one test: the checkers and listeners are set up as the coordinator starts (in this
  // test's hooks), and Stryker reruns only the tests that ran a mutant's code.
  it('requeues the job of its only lost worker, then fails the build, saying why, past max_stalled_count', async () => {
    const started: string[] = [];
    const unregister = rig.ctx.lifecycle.register({
      jobStarted: async (arch, jobId) => void started.push(`${arch} ${jobId}`),
    });
    try {
      const id = await rig.queued({ name: 'orphan' }, ['amd64']);
      const job = await takeAndLose(id, 'amd64', 'solo-1');
      const lost = await rig.logged('builder lost; job back in the queue', (l) => l.taskId === id);
      expect(lost).toMatchObject({ level: 40, arch: 'amd64', builder: 'solo-1', attempt: 1 });
      expect(await job.getState()).toBe('waiting');
      const build = await rig.ctx.store.getBuild(id, 'amd64');
      expect(build).toMatchObject({ state: 'queued', attempt: 1 });
      expect([build?.builder, build?.startedAt, build?.startedAtMs]).toEqual([undefined, undefined, undefined]);
      expect(await logText(id, 'amd64')).toContain(
        '[aoinb] builder solo-1 stopped answering during attempt 1; the build is back in the queue',
      );
      // The job's start (BullMQ's `active` event) reached the layers over builds.
      expect(started).toContain(`amd64 ${job.id}`);
      await lostAgainThenFailed(id, 'amd64');
    } finally {
      unregister();
    }
  });

  /** Lost a second time: BullMQ marks the job to fail and puts it back; it fails when a worker next takes it. */
  async function lostAgainThenFailed(id: string, arch: string): Promise<void> {
    await takeAndLose(id, arch, 'solo-2');
    await rig.logged('builder lost; job back in the queue', (l) => l.taskId === id && l.attempt === 2);
    let processed = false;
    const next = new Worker(
      buildQueueName(arch),
      async () => {
        processed = true;
      },
      { connection: queueConnection(rig.ctx.connection) as ConnectionOptions, prefix: rig.ctx.keys.prefix },
    );
    workers.push(next);
    const end = await rig.endOf(id, arch);
    expect(processed).toBe(false);
    const reason = 'the job failed: job stalled more than allowable limit';
    expect(end).toMatchObject({ state: 'failed', reason, attempt: 2 });
    expect(await rig.ctx.store.getBuild(id, arch)).toMatchObject({
      state: 'failed',
      reason,
      failureClass: 'lost-host',
      finishedAt: expect.any(String),
    });
    expect(await rig.logged('build failed outside a worker report', (l) => l.taskId === id)).toMatchObject({
      arch,
      reason,
    });
    const entries = await readLogEntries(rig.ctx.redis, rig.ctx.keys.log(id, arch, 1), '0', 1000);
    expect(entries.flatMap((e) => e.lines)).toContain(`[aoinb] ${reason}`);
    expect(entries.at(-1)).toMatchObject({ eof: { state: 'failed', reason } });
    expect(rig.logs.filter((l) => l.taskId === id && /without an end/.test(l.msg))).toEqual([]);
  }
});
