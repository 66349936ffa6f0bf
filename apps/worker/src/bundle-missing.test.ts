import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { farmKeys, readLogEntries, type BuildJobResult } from '@aoinb/farm-protocol';
import { useSeamRig } from '../test-support/seam-rig.ts';

/** What the coordinator answers a download of a bundle gone from its storage (retention, an operator). */
const gone = (taskId: string) => ({
  status: 410,
  body: {
    error: {
      code: 'BUNDLE_MISSING',
      message:
        `task ${taskId} has a bundle on record, but its archive is no longer in the coordinator's storage ` +
        '(removed by retention or by hand): submit the package again as a new task',
    },
  },
});

/**
 * The worker at its seams (real Redis, BullMQ, a stand-in coordinator) when the coordinator no longer has the
 * task's bundle: the build ends at once with a failed result that says why, instead of retrying the download
 * for the client's whole window (15 minutes here, as in production) while the build shows `running`.
 */
describe('a bundle the coordinator no longer has', () => {
  const seam = useSeamRig('bundle-missing');

  afterEach(() => {
    seam.coordinator.requests.length = 0;
    seam.coordinator.answer = undefined;
  });

  it('fails the build at once with the reason, after retrying only what a retry can change (a 503)', async () => {
    const { job, data } = await seam.queued({ name: 'seam-gone' });
    const downloads = () => seam.coordinator.seen('GET', new RegExp(`^/task/${data.taskId}/build_bundle$`));
    // A 503 first (a restarting coordinator): retried, as before; then the 410, which is final.
    seam.coordinator.answer = (request) =>
      request.method !== 'GET' ? undefined : downloads().length === 1 ? { status: 503 } : gone(data.taskId);
    const runner = seam.runner({ builderId: 'seam-worker', retryForMs: 15 * 60_000 });

    const result = await runner.process(job!, 'bull-token');

    expect(downloads()).toHaveLength(2);
    expect(result).toMatchObject({ status: 'failed', failureClass: 'infrastructure', artifacts: [], attempt: 1 });
    expect(result.reason).toBe(
      `downloading the bundle of task ${data.taskId}: ${gone(data.taskId).body.error.message}`,
    );
    const reports = seam.coordinator.seen('PUT', new RegExp(`^/task/${data.taskId}/result/amd64$`));
    expect(reports.map((r) => JSON.parse(r.body.toString()) as BuildJobResult)).toEqual([result]);
    expect(seam.coordinator.seen('PUT', /\/artifact\//)).toEqual([]);
    const entries = await readLogEntries(seam.redis, farmKeys.log(data.taskId, 'amd64', 1), '0', 1000);
    expect(entries.flatMap((e) => e.lines)).toContain(`[aoinb] failed: ${result.reason}`);
    expect(await readdir(path.join(seam.dir, 'jobs'))).toEqual([]);
  });
});
