import { afterAll, describe, expect, it } from 'vitest';
import { FarmHarness } from './farm-harness.ts';

describe('FarmHarness.startCoordinator', () => {
  const farms: FarmHarness[] = [];
  afterAll(async () => {
    await Promise.all(farms.map((farm) => farm.stop()));
  });

  it("does not take another farm's coordinator on the same port for its own", async () => {
    const [a, b] = await Promise.all([
      FarmHarness.create({ archs: ['amd64'] }),
      FarmHarness.create({ archs: ['amd64'] }),
    ]);
    farms.push(a, b);
    await a.startCoordinator();
    // b's coordinator cannot listen on a's port and exits; a's /healthz answers there meanwhile.
    await expect(b.startCoordinator('coordinator', a.apiPort)).rejects.toThrow(/exited/);
    expect((await a.api('GET', '/healthz')).status).toBe(200);
  });
});
