import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildStepMarker } from '@aoinb/buildroot';
import { farmKeys, readLogEntries, type BuildJobResult } from '@aoinb/farm-protocol';
import { useSeamRig } from '../test-support/seam-rig.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * The worker at its seams (real Redis, BullMQ, a stand-in coordinator over HTTP) when the bundle it downloads is
 * not the bytes the job announced (damaged in storage or on the way): the build never saw the bundle, so it is
 * the farm's failure (`infrastructure`), not the package's (`build`); the download is tried three times, not for
 * the client's whole window (15 minutes, as in production), and the build fails with a reason that says so.
 */
describe('a bundle whose bytes do not match its sha256', () => {
  const seam = useSeamRig('bundle-checksum');

  it('fails the build as infrastructure after three downloads, with the checksum mismatch as the reason', async () => {
    // buildStepLine: had the fake executor run, the log would hold the build step's first line.
    const { job, data } = await seam.queued({ name: 'seam-damaged', fake: { buildStepLine: true } });
    const announced = seam.coordinator.bundles.get(data.taskId)!;
    // One byte changed: the stand-in serves it at GET /task/:id/build_bundle, the job still says the original.
    const damaged = Buffer.from(announced);
    const last = damaged.length - 1;
    damaged.writeUInt8(damaged.readUInt8(last) ^ 0xff, last);
    seam.coordinator.bundles.set(data.taskId, damaged);
    expect(sha256(damaged)).not.toBe(data.bundleSha256);
    const runner = seam.runner({ builderId: 'seam-worker', retryForMs: 15 * 60_000 });

    const result = await runner.process(job!, 'bull-token');

    const downloads = seam.coordinator.seen('GET', new RegExp(`^/task/${data.taskId}/build_bundle$`));
    expect(downloads).toHaveLength(3);
    expect(result).toMatchObject({ status: 'failed', failureClass: 'infrastructure', artifacts: [], attempt: 1 });
    expect(result.reason).toBe(
      `downloading the bundle of task ${data.taskId}: checksum mismatch: sha256 ${sha256(damaged)} ` +
        `does not match the task's ${data.bundleSha256} (3 tries)`,
    );
    // One final report; nothing built, nothing uploaded, no scratch folder left.
    const reports = seam.coordinator.seen('PUT', new RegExp(`^/task/${data.taskId}/result/amd64$`));
    expect(reports.map((r) => JSON.parse(r.body.toString()) as BuildJobResult)).toEqual([result]);
    expect(seam.coordinator.seen('PUT', /\/artifact\//)).toEqual([]);
    const lines = (await readLogEntries(seam.redis, farmKeys.log(data.taskId, 'amd64', 1), '0', 1000)).flatMap(
      (e) => e.lines,
    );
    expect(lines).toContain(`[aoinb] failed: ${result.reason}`);
    expect(lines.some((l) => l.startsWith(buildStepMarker))).toBe(false);
    expect(await readdir(path.join(seam.dir, 'jobs'))).toEqual([]);
  });
});
