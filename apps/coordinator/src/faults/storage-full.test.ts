import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from '@aoinb/testkit';
import { FarmHarness, farmDeadlineMs, farmTokens, packTestBundle, type TestBundle } from '@aoinb/farm-harness';
import { expectSucceededOnce } from './fault-checks.ts';

/**
 * The coordinator's storage (bundles, artifacts, logs, repositories) on a
 * small tmpfs that fills up: uploads are refused with 507 and Retry-After (no
 * host path, no crash), a worker's artifact upload is retried until there is
 * room, and every build then succeeds exactly once.
 */
describe("fault: the coordinator's storage is full", () => {
  let farm: FarmHarness;
  let storage: SmallDisk;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const maintainer = { token: farmTokens.maintainer };
  const mine = () => ({ testMounts: [storage.dir] });

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    storage = await mountSmallDisk(32, farm.storageDir);
    await farm.startCoordinator();
    await farm.startWorker({ id: 'w1', archs: ['amd64'], slots: 2 });
  });
  afterAll(async () => {
    // Processes first (they hold files on it), then the disk, then the farm's folder.
    for (const name of [...(farm?.processes.keys() ?? [])]) await farm.kill(name, 'SIGKILL');
    await storage?.unmount();
    await farm?.stop();
  });

  it('refuses a bundle upload with 507 while full, and builds it once there is room', async () => {
    await expectSucceededOnce(farm, [await farm.submit(await bundle({ name: 'before-full' }))], mine());
    await storage.fill();
    const created = await farm.api('POST', '/task', undefined, maintainer);
    const id = (created.body as { id: string }).id;
    const archive = await bundle({ name: 'while-full' });
    const refused = await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
    expect(refused.status).toBe(507);
    expect(refused.body).toMatchObject({ error: { code: 'STORAGE_FULL' } });
    expect(refused.text).not.toContain(farm.root);
    expect(farm.processes.get('coordinator')?.child.exitCode).toBeNull();
    await storage.free();
    expect((await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer)).status).toBeLessThan(300);
    expect((await farm.api('PUT', `/task/${id}/branch`, 'stable', maintainer)).status).toBeLessThan(300);
    expect((await farm.api('PUT', `/task/${id}/build`, {}, maintainer)).status).toBeLessThan(300);
    await expectSucceededOnce(farm, [id], mine());
  });

  it("retries a worker's artifact upload while the storage is full; the build succeeds once after", async () => {
    // The build holds until the storage is full, so its upload comes after the fill, whatever the load.
    const gate = path.join(farm.root, 'release-upload-waits');
    const id = await farm.submit(await bundle({ name: 'upload-waits', fake: { holdUntilFile: gate } }));
    await farm.waitForState(id, ['running']);
    await storage.fill();
    await writeFile(gate, '');
    await farm.waitFor(
      async () => /uploading upload-waits\S* failed; retrying/.test(farm.processes.get('w1')?.output() ?? ''),
      farmDeadlineMs,
      "the worker's upload retry while the storage is full",
    );
    // The build ended, but it is still running: the worker is retrying its upload.
    const meanwhile = await farm.status(id);
    expect(meanwhile.state, JSON.stringify(meanwhile)).toBe('running');
    await storage.free();
    await expectSucceededOnce(farm, [id], mine());
    expect(farm.processes.get('coordinator')?.child.exitCode).toBeNull();
  });
});
