import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FarmHarness, type TaskStatus, packTestBundle, type TestBundle } from '@aoinb/farm-harness';
import { farmDeadlineMs } from '@aoinb/farm-harness';
import { startTwoWorkerFarm } from '../test-support/two-worker-farm.ts';

/**
 * Processes of the two-worker farm (test-support/two-worker-farm.ts) killed mid-build: nothing is lost,
 * nothing built twice. Each test leaves the farm with a replacement worker running.
 */
describe('the farm when a process dies: worker SIGKILL and SIGTERM, coordinator restart', () => {
  let farm: FarmHarness;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const job = (s: TaskStatus, arch: string) => s.jobs.find((j) => j.arch === arch)!;

  beforeAll(async () => {
    farm = await startTwoWorkerFarm();
  });

  afterAll(async () => {
    await farm?.stop();
  });

  it('gives the job of a SIGKILLed worker to another worker, which completes it', async () => {
    const id = await farm.submit(
      await bundle({ name: 'survivor', defines: ['ALLOW_ARCH="amd64"'], fake: { durationMs: 4000 } }),
    );
    await farm.waitFor(
      async () => job(await farm.status(id), 'amd64').builder === 'worker-a',
      farmDeadlineMs,
      'worker-a to start the build',
    );
    await farm.kill('worker-a', 'SIGKILL');
    await farm.startWorker({ id: 'worker-a2', archs: ['amd64'], slots: 2 });
    const status = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(status.state).toBe('succeeded');
    expect(job(status, 'amd64')).toMatchObject({ builder: 'worker-a2', attempt: 2 });
    const log = (await farm.api('GET', `/task/${id}/log`)).text;
    expect(log).toContain('builder worker-a stopped answering during attempt 1');
    expect(log).toContain('attempt 2 on builder worker-a2');
    await farm.waitFor(
      async () => {
        const { builders } = (await farm.api('GET', '/builder/status')).body as {
          builders: Array<{ id: string; state: string }>;
        };
        return builders.find((b) => b.id === 'worker-a')?.state === 'offline';
      },
      farmDeadlineMs,
      'worker-a to show offline',
    );
  });

  it('hands running builds back to the queue when a worker gets SIGTERM', async () => {
    const id = await farm.submit(
      await bundle({ name: 'handed-back', defines: ['ALLOW_ARCH="arm64"'], fake: { durationMs: 3000 } }),
    );
    await farm.waitForState(id, ['running']);
    await farm.kill('worker-b', 'SIGTERM');
    const back = await farm.status(id);
    expect(job(back, 'arm64')).toMatchObject({ state: 'queued', builder: null });
    await farm.startWorker({ id: 'worker-b2', archs: ['arm64'], slots: 2 });
    const status = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(status.state).toBe('succeeded');
    expect(job(status, 'arm64')).toMatchObject({ builder: 'worker-b2', attempt: 2 });
    expect((await farm.api('GET', `/task/${id}/log`)).text).toContain('handed back to the queue');
  });

  it('loses nothing when the coordinator is restarted mid-build', async () => {
    const id = await farm.submit(
      await bundle({
        name: 'steady',
        defines: ['ALLOW_ARCH="@(amd64|arm64)"'],
        fake: { durationMs: 4000, lines: 300, linesPerSecond: 100 },
      }),
    );
    await farm.waitForState(id, ['running']);
    await farm.kill('coordinator', 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await farm.startCoordinator();
    const status = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(status.state).toBe('succeeded');
    for (const arch of ['amd64', 'arm64']) {
      const log = (await farm.api('GET', `/task/${id}/log?arch=${arch}`)).text.split('\n');
      expect(log.filter((l) => l.startsWith('fake build line '))).toEqual(
        Array.from({ length: 300 }, (_, i) => `fake build line ${i}`),
      );
      expect(job(status, arch).artifacts).toHaveLength(1);
    }
    const packages = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    expect(packages).toContain('Filename: steady_1.0-0_amd64.deb');
    expect(packages).toContain('Filename: steady_1.0-0_arm64.deb');
  });
});
