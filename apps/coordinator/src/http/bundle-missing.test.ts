import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract';
import { farmTokens } from '@aoinb/farm-harness';
import { acceptResult } from '../services/result-service.ts';
import { inject } from '../../test-support/inject-fixture.ts';
import { report } from '../../test-support/report-fixtures.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';

/**
 * A task whose bundle archive went from storage (retention's `bundle_days`, an operator) while its record stays:
 * the worker's download is a 410 BUNDLE_MISSING naming the task, never a 500 of the file stream (which a worker
 * retries for 15 minutes while the build shows `running`), and a retry is refused before anything is queued.
 */
describe('a bundle gone from storage', () => {
  const rig = useServiceRig({ archs: ['amd64'] });
  const asWorker = { token: farmTokens.worker, headers: { [protocolHeader]: String(PROTOCOL_VERSION) } };
  const hostPaths = (): string[] => [rig.farm.root, rig.farm.storageDir];
  const errorLines = () => rig.logs.filter((l) => l.level >= 50);

  it('answers the download with 410 BUNDLE_MISSING, naming the task and no host path', async () => {
    const id = await rig.queued({ name: 'gone-bundle' }, ['amd64']);
    const served = await inject(rig.app, 'GET', `/task/${id}/build_bundle`, asWorker);
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.length).toBe((await rig.ctx.store.getTask(id))?.bundle?.size);

    await rm(rig.ctx.layout.bundleArchive(id));
    const errorsBefore = errorLines().length;
    for (const token of [farmTokens.worker, farmTokens.maintainer]) {
      const res = await inject(rig.app, 'GET', `/task/${id}/build_bundle`, { ...asWorker, token });
      expect(res.statusCode, res.body).toBe(410);
      const { error } = res.json<{ error: { code: string; message: string } }>();
      expect(error.code).toBe('BUNDLE_MISSING');
      expect(error.message).toContain(`task ${id} has a bundle on record`);
      expect(error.message).toContain('submit the package again as a new task');
      for (const p of hostPaths()) expect(error.message).not.toContain(p);
    }
    // A client's error, documented in the route's schema: nothing logged as an error (no 500, no undocumented status).
    expect(errorLines().slice(errorsBefore)).toEqual([]);
  });

  it('refuses to retry a failed task whose bundle went, with 410, and queues no new run', async () => {
    const id = await rig.queued({ name: 'gone-retry' }, ['amd64']);
    const claim = await rig.claim(id, 'amd64', 'worker-a');
    const failed = report({ status: 'failed', reason: 'build.sh failed', builder: 'worker-a' });
    expect(await acceptResult(rig.ctx, id, 'amd64', failed, claim.hash)).toBe('failed');

    await rm(rig.ctx.layout.bundleArchive(id));
    const retry = await inject(rig.app, 'POST', `/task/${id}/retry`, { token: farmTokens.maintainer });
    expect(retry.statusCode, retry.body).toBe(410);
    expect(retry.json()).toEqual({
      error: { code: 'BUNDLE_MISSING', message: expect.stringContaining(`task ${id} has a bundle on record`) },
    });
    expect(await rig.ctx.store.getTask(id)).toMatchObject({ state: 'failed' });
    expect(await rig.ctx.store.getBuild(id, 'amd64')).toMatchObject({ state: 'failed', run: 1 });
  });
});
