import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@aoinb/logging';
import {
  buildQueueName,
  buildWorkerOptions,
  farmKeys,
  type BuildJobData,
  type BuildJobResult,
} from '@aoinb/farm-protocol';
import { SettlingRefusal } from './claim-check.ts';
import { jobProcessor } from './job-intake.ts';
import { SlotGate } from './slot-gate.ts';
import { useSeamRig } from '../test-support/seam-rig.ts';

/**
 * redis-kill.test.ts's double build at the worker's seam: the job's lock lapsed in a Redis outage, the stalled
 * checker re-queued it, and attempt 1's report is being published (its fence set the settle mark). Fetched
 * again, the job must not build: its claim is refused with nothing changed (the intake puts the job off),
 * and once the report made the build final the job completes without a build or a coordinator call.
 */
describe('a job re-queued while its report is publishing', () => {
  const seam = useSeamRig('settling-claim');

  it('is refused while the build settles, and completes without a build once it is final', async () => {
    const { job, data } = await seam.queued({ name: 'seam-settling' });
    const { base, hash } = await seam.settling(data, 'w1');
    const runner = seam.runner({ builderId: 'seam-worker', onStarted: () => undefined, onFinished: () => undefined });

    await expect(runner.process(job!, 'bull-token')).rejects.toBeInstanceOf(SettlingRefusal);
    expect(seam.coordinator.requests).toEqual([]);
    expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'running', attempt: 1 });

    const final = { ...base, from: ['running' as const], to: 'succeeded' as const, attemptKeyHash: hash };
    expect((await seam.store.transition({ ...final, attempt: { equals: 1 } })).done).toBe(true);
    const result = await runner.process(job!, 'bull-token');
    expect(result).toMatchObject({ status: 'succeeded', reason: 'build is already succeeded; nothing to do' });
    expect(seam.coordinator.requests).toEqual([]);
    expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
  });

  it("through the agent's intake: the job is put off (delayed, no attempt used) and completes once final", async () => {
    const { job, data } = await seam.queued({ name: 'seam-settling-intake' });
    const { base, hash } = await seam.settling(data, 'w1');
    const runner = seam.runner({ builderId: 'seam-worker' });
    const placement = { redis: seam.redis, keys: farmKeys, store: seam.store, builderId: 'seam-worker' };
    const intake = {
      logger: silentLogger(),
      gate: new SlotGate(1, () => undefined),
      runner,
      inFlight: new Set<Promise<unknown>>(),
      placement,
      settlePutOffMs: 2_000,
      refusing: () => false,
    };
    const url = new URL(seam.redisUrl);
    const worker = new Worker<BuildJobData, BuildJobResult>(
      buildQueueName('amd64'),
      jobProcessor(intake),
      buildWorkerOptions(
        { host: url.hostname, port: Number(url.port) },
        { name: 'seam', concurrency: 1, lockDurationMs: 5000, stalledIntervalMs: 30_000, maxStalledCount: 1 },
      ),
    );
    try {
      const queue = seam.queue('amd64');
      await expect.poll(async () => (await queue.getJob(job!.id!))?.getState(), { timeout: 120_000 }).toBe('delayed');
      expect((await queue.getJob(job!.id!))?.attemptsMade).toBe(0);
      expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'running', attempt: 1 });
      const final = { ...base, from: ['running' as const], to: 'succeeded' as const, attemptKeyHash: hash };
      expect((await seam.store.transition({ ...final, attempt: { equals: 1 } })).done).toBe(true);
      await expect.poll(async () => (await queue.getJob(job!.id!))?.getState(), { timeout: 120_000 }).toBe('completed');
      expect(seam.coordinator.seen('GET', new RegExp(`^/task/${data.taskId}/`))).toEqual([]);
      expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
    } finally {
      await worker.close();
    }
  });
});
