import { FarmHarness } from '@aoinb/farm-harness';

/**
 * The farm as it runs: a real redis-server, the coordinator and two worker
 * agents as separate processes (worker-a: amd64, worker-b: arm64) on the fake
 * executor, which writes log lines and a real .deb. riscv64 has a queue but no
 * worker. Stalled checks every second, locks of 2 s, so a lost worker's job
 * comes back within ~4 s. The caller stops it.
 */
export async function startTwoWorkerFarm(): Promise<FarmHarness> {
  const farm = await FarmHarness.create({ archs: ['amd64', 'arm64', 'riscv64'], noarchArch: 'amd64' });
  try {
    await farm.startCoordinator();
    await Promise.all([
      farm.startWorker({ id: 'worker-a', archs: ['amd64'], slots: 2 }),
      farm.startWorker({ id: 'worker-b', archs: ['arm64'], slots: 2 }),
    ]);
  } catch (error) {
    await farm.stop();
    throw error;
  }
  return farm;
}
