import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens, type TaskStatus, packTestBundle, type TestBundle } from '@aoinb/farm-harness';
import { farmDeadlineMs } from '@aoinb/farm-harness';

/**
 * The coordinator's own recovery, with no other worker to lean on: each arch
 * here has at most one worker at a time, so no worker's BullMQ stalled check
 * can requeue a lost job; only the coordinator's checker, its failed-job
 * listener and its reconcile pass can. Stalled checks every second, locks of
 * 2 s; a job may come back once (max_stalled_count = 1), the second loss fails it.
 */
describe('recovery when the only worker of an arch is lost', () => {
  let farm: FarmHarness;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const job = (s: TaskStatus) => s.jobs[0]!;
  const logOf = async (id: string) => (await farm.api('GET', `/task/${id}/log`)).text;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64', 'arm64', 'riscv64'], maxStalledCount: 1 });
    await farm.startCoordinator();
  });
  afterAll(async () => {
    await farm?.stop();
  });

  async function runningOn(id: string, builder: string, attempt: number): Promise<void> {
    await farm.waitFor(
      async () => {
        const j = job(await farm.status(id));
        return j.state === 'running' && j.builder === builder && j.attempt === attempt;
      },
      farmDeadlineMs,
      `${builder} to run attempt ${attempt} of task ${id}`,
    );
  }

  const queued = (id: string, what: string): Promise<void> =>
    farm.waitFor(async () => job(await farm.status(id)).state === 'queued', farmDeadlineMs, what);

  it("puts a SIGKILLed worker's job back in the queue by itself; the next worker of the arch finishes it", async () => {
    await farm.startWorker({ id: 'solo-1', archs: ['amd64'] });
    const id = await farm.submit(
      await bundle({ name: 'orphan', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 5000 } }),
    );
    await runningOn(id, 'solo-1', 1);
    await farm.kill('solo-1', 'SIGKILL');
    // No worker of amd64 is alive: only the coordinator's stalled checker can bring the job back.
    await queued(id, 'the build to be queued');
    expect(await farm.buildJobState('amd64', job(await farm.status(id)).job_id)).toBe('waiting');
    expect(await logOf(id)).toContain(
      'builder solo-1 stopped answering during attempt 1; the build is back in the queue',
    );
    await farm.startWorker({ id: 'solo-2', archs: ['amd64'] });
    const done = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(done.state, done.reason ?? '').toBe('succeeded');
    expect(job(done)).toMatchObject({ builder: 'solo-2', attempt: 2 });
    await farm.kill('solo-2');
  });

  it('fails the build, saying why, once its job was lost more often than max_stalled_count allows', async () => {
    await farm.startWorker({ id: 'doomed-1', archs: ['arm64'] });
    const id = await farm.submit(
      await bundle({ name: 'cursed', defines: ['ALLOW_ARCH="arm64"'], fake: { durationMs: 60_000 } }),
    );
    await runningOn(id, 'doomed-1', 1);
    await farm.kill('doomed-1', 'SIGKILL');
    await queued(id, 'the first requeue');
    await farm.startWorker({ id: 'doomed-2', archs: ['arm64'] });
    await runningOn(id, 'doomed-2', 2);
    await farm.kill('doomed-2', 'SIGKILL');
    // BullMQ 6 marks the job to fail and puts it back; it fails when a worker next takes it, before any build.
    await queued(id, 'the second requeue');
    await farm.startWorker({ id: 'doomed-3', archs: ['arm64'] });
    const end = await farm.waitForState(id, ['failed', 'succeeded', 'cancelled']);
    expect(end.state).toBe('failed');
    expect(job(end)).toMatchObject({
      state: 'failed',
      attempt: 2,
      reason: expect.stringMatching(/^the job failed: .*stalled/),
    });
    expect(await farm.buildJobState('arm64', job(end).job_id)).toBe('failed');
    const log = await logOf(id);
    expect(log).toContain(job(end).reason!);
    // The log ends: a follower is told the final state.
    const follow = await fetch(`${farm.coordinatorUrl}/task/${id}/log?follow=true`, {
      headers: { authorization: `Bearer ${farmTokens.reader}` },
    });
    expect(await follow.text()).toMatch(/event: end\ndata: \{"state":"failed"/);
    await farm.kill('doomed-3');
  });

  it('adds the job of a live build again when a crash lost it', async () => {
    // riscv64 has no worker yet: the build stays queued while its job is removed behind the coordinator's back.
    const id = await farm.submit(await bundle({ name: 'jobless', defines: ['ALLOW_ARCH="riscv64"'] }));
    const jobId = job(await farm.status(id)).job_id;
    expect(await farm.withQueue('riscv64', (queue) => queue.remove(jobId))).toBe(1);
    expect(await farm.buildJobState('riscv64', jobId)).toBe('unknown');
    // A restarted coordinator reconciles every live build at start.
    await farm.kill('coordinator', 'SIGKILL');
    await farm.startCoordinator();
    await farm.waitFor(
      async () => (await farm.buildJobState('riscv64', jobId)) === 'waiting',
      farmDeadlineMs,
      'the job to be added again',
    );
    await farm.startWorker({ id: 'late-riscv', archs: ['riscv64'] });
    const done = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(done.state, done.reason ?? '').toBe('succeeded');
    expect(job(done)).toMatchObject({ builder: 'late-riscv', attempt: 1, run: 1 });
    await farm.kill('late-riscv');
  });
});
