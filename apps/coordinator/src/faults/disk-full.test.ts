import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from '@aoinb/testkit';
import { FarmHarness, farmDeadlineMs, type TaskStatus, packTestBundle, type TestBundle } from '@aoinb/farm-harness';
import { expectNoMountsUnder, expectSucceededOnce } from './fault-checks.ts';

interface Builder {
  id: string;
  state: string;
  mode: string | null;
  paused_reason: string | null;
}

/**
 * A full work dir, for real: each worker's work dir is a small tmpfs. w-guard
 * (amd64) stops taking jobs below `min_free_disk_mib` and cleans its own
 * leftovers; w-full (arm64, no threshold) meets ENOSPC in a job, which must
 * end as a `disk-full` result at once, never a crash or 15 minutes of retries.
 */
describe('fault: the work dir is full', () => {
  let farm: FarmHarness;
  let guarded: SmallDisk;
  let unguarded: SmallDisk;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const builder = async (id: string): Promise<Builder | undefined> =>
    ((await farm.api('GET', '/builder/status')).body as { builders: Builder[] }).builders.find((b) => b.id === id);

  beforeAll(async () => {
    [guarded, unguarded] = await Promise.all([mountSmallDisk(64), mountSmallDisk(16)]);
    farm = await FarmHarness.create({ archs: ['amd64', 'arm64'] });
    await farm.startCoordinator();
    await Promise.all([
      farm.startWorker({ id: 'w-guard', archs: ['amd64'], workDir: guarded.dir, minFreeDiskMib: 24 }),
      farm.startWorker({ id: 'w-full', archs: ['arm64'], workDir: unguarded.dir, minFreeDiskMib: 0 }),
    ]);
  });
  afterAll(async () => {
    await farm?.stop();
    await guarded?.unmount();
    await unguarded?.unmount();
  });

  it("removes a dead build's leftovers when they fill the work dir, and goes on building", async () => {
    const jobsDir = path.join(guarded.dir, 'farm-worker', 'w-guard');
    await mkdir(path.join(jobsDir, 'dead-build-a1'), { recursive: true });
    await writeFile(path.join(jobsDir, 'dead-build-a1', 'workspace.img'), Buffer.alloc(48 * 1024 * 1024));
    await farm.waitFor(async () => (await readdir(jobsDir)).length === 0, farmDeadlineMs, 'the leftover to be removed');
    const id = await farm.submit(await bundle({ name: 'after-cleanup', defines: ['ALLOW_ARCH="amd64"'] }));
    await expectSucceededOnce(farm, [id]);
  });

  it('stops taking jobs below the threshold, says why, and takes them again once there is room', async () => {
    await guarded.fill();
    await farm.waitFor(async () => (await builder('w-guard'))?.mode === 'paused', farmDeadlineMs, 'w-guard to pause');
    expect((await builder('w-guard'))?.paused_reason).toMatch(/MiB free, below worker.min_free_disk_mib = 24/);
    const id = await farm.submit(await bundle({ name: 'waits-for-room', defines: ['ALLOW_ARCH="amd64"'] }));
    // Three heartbeats: a paused worker claims nothing.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await farm.status(id)).state).toBe('queued');
    await guarded.free();
    await farm.waitFor(async () => (await builder('w-guard'))?.mode === 'active', farmDeadlineMs, 'w-guard to resume');
    await expectSucceededOnce(farm, [id]);
  });

  it('ends a job that meets ENOSPC as a disk-full failure at once; the worker lives, the retry succeeds', async () => {
    await unguarded.fill();
    const id = await farm.submit(await bundle({ name: 'no-room', defines: ['ALLOW_ARCH="arm64"'] }));
    // A generous deadline: retried as a network error it would stay running for 15 minutes.
    const failed: TaskStatus = await farm.waitForState(id, ['failed', 'succeeded', 'cancelled']);
    expect(failed.state).toBe('failed');
    const job = failed.jobs[0] as TaskStatus['jobs'][number] & { failure_class: string | null };
    expect(job.failure_class).toBe('disk-full');
    expect(job.reason).toMatch(/ENOSPC|no space/i);
    expect(farm.processes.get('w-full')?.child.exitCode).toBeNull();
    expect((await builder('w-full'))?.state).not.toBe('offline');
    const metrics = (await farm.api('GET', '/metrics')).text;
    expect(metrics).toMatch(/^aoinb_build_failures_total\{arch="arm64",class="disk-full"\} 1$/m);
    await unguarded.free();
    expect((await farm.api('POST', `/task/${id}/retry`)).status).toBeLessThan(300);
    const retried = await farm.waitForState(id, ['failed', 'succeeded', 'cancelled']);
    expect(retried.state).toBe('succeeded');
    expect(retried.jobs[0]).toMatchObject({ run: 2, attempt: 1 });
    await expectNoMountsUnder(farm.root);
  });
});
