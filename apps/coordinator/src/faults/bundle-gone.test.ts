import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { storageLayout } from '../storage/storage-layout.ts';
import { expectNoMountsUnder } from './fault-checks.ts';

/**
 * The whole farm (coordinator and worker processes, the worker's real 15-minute retry window) when a queued
 * task's bundle archive is removed from the coordinator's storage before a worker fetches it: the build fails
 * with a reason naming the missing bundle, long before the retry window would end, and a retry is refused.
 */
describe('fault: a queued build whose bundle archive went from storage', () => {
  let farm: FarmHarness;
  const maintainer = { token: farmTokens.maintainer };

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    await farm.startCoordinator();
  });
  afterAll(async () => {
    await farm?.stop();
  });

  it('fails the build with the reason at once, and refuses its retry with 410', async () => {
    // Queued with no worker yet, so the archive is gone before any download.
    const id = await farm.submit(await packTestBundle(path.join(farm.root, 'bundles'), { name: 'bundle-gone' }));
    await rm(storageLayout(farm.storageDir).bundleArchive(id));
    await farm.startWorker({ id: 'w1', archs: ['amd64'] });

    // A deadline that only catches a hang (5 minutes, the suite's), yet a third of the worker's retry window.
    const status = await farm.waitForState(id, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(status.state, JSON.stringify(status)).toBe('failed');
    const [job] = status.jobs;
    expect(job).toMatchObject({ state: 'failed', run: 1, attempt: 1, failure_class: 'infrastructure' });
    expect(job?.reason).toContain(`downloading the bundle of task ${id}: task ${id} has a bundle on record`);
    expect(job?.reason).not.toContain(farm.root);

    const retry = await farm.api('POST', `/task/${id}/retry`, undefined, maintainer);
    expect(retry.status, retry.text).toBe(410);
    expect(retry.body).toMatchObject({ error: { code: 'BUNDLE_MISSING' } });
    expect(farm.processes.get('coordinator')?.child.exitCode).toBeNull();
    await expectNoMountsUnder(farm.root);
    // The worker is this test's own (the per-test leak check).
    await farm.kill('w1');
  }, 600_000);
});
