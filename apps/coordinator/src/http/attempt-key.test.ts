import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens } from '../testing/farm-harness.ts';
import { packTestBundle } from '../testing/test-bundles.ts';

/**
 * A stolen worker token against the real coordinator, Redis and a worker agent
 * (fake executor): while a build runs, the thief knows the task, arch and
 * attempt, but not that attempt's key, so it can neither upload nor report.
 */
describe('per-attempt credentials on uploads and results', () => {
  let farm: FarmHarness;
  const worker = { token: farmTokens.worker };

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'worker-a', archs: ['amd64'] });
  }, 90_000);
  afterAll(async () => {
    await farm?.stop();
  });

  it('refuses a forged upload and result made with the worker token alone; the real attempt still succeeds', async () => {
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), { name: 'victim', fake: { durationMs: 4000 } });
    const id = await farm.submit(archive);
    const running = await farm.waitForState(id, ['running']);
    const attempt = running.jobs[0]!.attempt;
    expect(attempt).toBeGreaterThan(0);

    const forgedUpload = (headers: Record<string, string>) =>
      farm.api('PUT', `/task/${id}/artifact/amd64/victim_1.0-0_amd64.deb?attempt=${attempt}`, new Uint8Array([1, 2, 3]), {
        ...worker,
        headers: { 'x-checksum-sha256': '0'.repeat(64), ...headers },
      });
    const attempts: Array<Record<string, string>> = [{}, { 'x-aoinb-attempt-key': 'guessed' }, { 'x-aoinb-attempt-key': '' }];
    for (const headers of attempts) {
      const refused = await forgedUpload(headers);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('x-aoinb-attempt-key') } });
    }
    const forgedResult = await farm.api(
      'PUT',
      `/task/${id}/result/amd64`,
      { status: 'succeeded', builder: 'worker-a', attempt, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), artifacts: [], phases: {} },
      { ...worker, headers: { 'x-aoinb-attempt-key': 'guessed' } },
    );
    expect(forgedResult.status).toBe(403);

    const done = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(done.jobs[0]!.artifacts.map((a) => a.name)).toEqual(['victim_1.0-0_amd64.deb']);
  });
});
