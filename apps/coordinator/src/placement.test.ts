import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens, packTestBundle, type TaskStatus, type TestBundle } from '@aoinb/farm-harness';
import { farmDeadlineMs } from '@aoinb/farm-harness';

/**
 * Placement by requirements (docs/placement.md), the farm as it runs: a real redis-server, the
 * coordinator and worker agents as processes on the fake executor. `small` offers 2 GiB,
 * `big` (started later) 8 GiB; a bundle whose ENVREQ asks 4 GiB waits, says why, is counted
 * by aoinb_builds_unplaceable, and runs on `big` once it is there, at attempt 1. A build that
 * asked for a network waits the same way until `net`, the one host that allows network builds,
 * is online, and runs there while the two hosts that cannot take it are online and idle too.
 */
describe('placement by requirements', () => {
  let farm: FarmHarness;
  const bundle = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const jobOf = (s: TaskStatus) => s.jobs[0]!;

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'], noarchArch: 'amd64', networkBuilds: 'any-submitter' });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'small', archs: ['amd64'], slots: 1, memoryGib: 2 });
  });

  afterAll(async () => {
    await farm?.stop();
  });

  const unplaceable = async (reason: string): Promise<number | undefined> => {
    const text = (await farm.api('GET', '/metrics')).text;
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`aoinb_builds_unplaceable{arch="amd64",reason="${reason}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  it('refuses an absurd ENVREQ at upload, naming the key', async () => {
    const id = ((await farm.api('POST', '/task', undefined, { token: farmTokens.maintainer })).body as { id: string })
      .id;
    const archive = await bundle({ name: 'absurd', defines: ['ENVREQ="total_mem=1e30 core=8"'] });
    const res = await farm.api('PUT', `/task/${id}/build_bundle`, archive, { token: farmTokens.maintainer });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: {
        code: 'BUNDLE_INVALID',
        message: expect.stringContaining('ENVREQ: total_mem must be at most 65536 (GiB), got "1e30"'),
      },
    });
  });

  it('keeps a big build off the small host, says why, and runs it on the big one when it comes', async () => {
    const big = await farm.submit(await bundle({ name: 'needs-four', defines: ['ENVREQ="total_mem=4"'] }));
    let last: TaskStatus | undefined;
    await farm.waitFor(
      async () => {
        last = await farm.status(big);
        return jobOf(last).reason === 'waiting: needs 4 GiB, largest amd64 builder has 2 GiB';
      },
      farmDeadlineMs,
      'the waiting reason',
      () => JSON.stringify(last),
    );
    expect(last).toMatchObject({ state: 'queued' });
    expect(jobOf(last!)).toMatchObject({ state: 'queued', attempt: 0, builder: null, learned: null });
    expect(jobOf(last!).needs).toEqual({
      cores: null,
      memory_bytes: 4 * 1024 ** 3,
      memory_per_core_bytes: null,
      disk_bytes: null,
      network: false,
      summary: '4 GiB',
    });
    expect(await unplaceable('memory')).toBe(1);

    // The small host is not stuck behind it: a build it can take runs at once.
    const small = await farm.submit(await bundle({ name: 'fits-anywhere', fake: { buildStepLine: true } }));
    const smallDone = await farm.waitForState(small, ['succeeded', 'failed']);
    expect(smallDone.state).toBe('succeeded');
    expect(jobOf(smallDone).builder).toBe('small');
    // Timed from the claim to the package's build step, reported with the result.
    expect(jobOf(smallDone).startup_ms).toEqual(expect.any(Number));
    expect(jobOf(await farm.status(big))).toMatchObject({ state: 'queued', attempt: 0 });

    await farm.startWorker({ id: 'big', archs: ['amd64'], slots: 1, memoryGib: 8 });
    // Handed back for 30 s by the small host, promoted by the placement loop as soon as `big` is free.
    const done = await farm.waitForState(big, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(jobOf(done)).toMatchObject({ builder: 'big', attempt: 1, run: 1, reason: null });
    expect(await unplaceable('memory')).toBe(0);
    await farm.kill('big');
  });

  it('keeps a network build off the hosts that allow none, says why, and runs it on one that does', async () => {
    await farm.startWorker({ id: 'plain', archs: ['amd64'], slots: 1, memoryGib: 8 });
    const online = await farm.submit(await bundle({ name: 'wants-network' }), { build: { network: true } });
    let last: TaskStatus | undefined;
    await farm.waitFor(
      async () => {
        last = await farm.status(online);
        return jobOf(last).reason === 'waiting: no amd64 builder allows network builds';
      },
      farmDeadlineMs,
      'the waiting reason',
      () => JSON.stringify(last),
    );
    expect(jobOf(last!)).toMatchObject({ state: 'queued', attempt: 0, builder: null });
    expect(jobOf(last!).needs).toMatchObject({ network: true, summary: 'a build network' });
    expect(await unplaceable('network')).toBe(1);

    // `small` and `plain` stay online and idle: two hosts that cannot take it, fetching from the same queue.
    await farm.startWorker({ id: 'net', archs: ['amd64'], slots: 1, allowNetworkBuilds: true });
    const done = await farm.waitForState(online, ['succeeded', 'failed']);
    expect(jobOf(done)).toMatchObject({ state: 'succeeded', builder: 'net', attempt: 1, reason: null });
    expect(await unplaceable('network')).toBe(0);

    // Submitted with all three online and idle: the able host gets it, at its first attempt.
    const again = await farm.submit(await bundle({ name: 'wants-network', version: '1.1' }), {
      build: { network: true },
    });
    const second = await farm.waitForState(again, ['succeeded', 'failed']);
    expect(jobOf(second)).toMatchObject({ state: 'succeeded', builder: 'net', attempt: 1 });
    await farm.kill('net');
    await farm.kill('plain');
  });

  it('learns from an earlier success: its peak memory plus headroom becomes a need, shown in the status', async () => {
    const again = await farm.submit(await bundle({ name: 'fits-anywhere', version: '1.1' }));
    const done = await farm.waitForState(again, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    const { learned, needs } = jobOf(done);
    expect(learned).toMatchObject({ builds: 1, memory_bytes: expect.any(Number) });
    expect(learned!.memory_bytes).toBeGreaterThan(0);
    expect(needs).toMatchObject({ memory_bytes: learned!.memory_bytes });
  });
});
