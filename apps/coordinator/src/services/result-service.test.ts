import { access, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { farmTokens } from '@aoinb/farm-harness';
import { logMember, type BuildJobResult } from '@aoinb/farm-protocol';
import { inject } from '../../test-support/inject-fixture.ts';
import { report, reportFixtures, sha } from '../../test-support/report-fixtures.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';
import { acceptResult } from './result-service.ts';

const resources: NonNullable<BuildJobResult['resources']> = {
  cpuSeconds: 3,
  peakMemoryBytes: 1024,
  peakDiskBytes: 2048,
  method: 'procfs',
  samples: [],
};

/**
 * The result service in process over a real redis-server (the coordinator started in this test, so its
 * code is what runs): the final state and the log's end written together, the reason and failure class
 * recorded, publishing (held back by a layer, refused by the repository), the files of other attempts dropped.
 */
describe('worker reports', () => {
  const rig = useServiceRig({ archs: ['amd64'] });
  const fx = reportFixtures(rig);
  const repairs = (id: string) => rig.logs.filter((l) => l.taskId === id && /without an end/.test(l.msg));
  /** The amd64 build of run 1, for a change through the store that keeps its state (one task, one arch). */
  const onRecord = (taskId: string) => ({ taskId, arch: 'amd64', run: 1, archs: ['amd64'] });

  it('records a success with its log end in one step, publishes it and drops the other attempts', async () => {
    const { id, deb, digest } = await fx.claimed('whole');
    const lost = await rig.claim(id, 'amd64', 'worker-a');
    expect(lost.attempt).toBe(2);
    // Files of a lost attempt and of an earlier run, which this report makes worthless.
    await fx.upload(id, 2, lost.hash, deb.name, deb.bytes);
    await mkdir(path.join(rig.ctx.layout.artifactsRoot(id, 'amd64'), 'r0a3'), { recursive: true });
    const now = await rig.claim(id, 'amd64', 'worker-c');
    expect(await fx.upload(id, 3, now.hash, deb.name, deb.bytes)).toEqual({ created: true, size: deb.bytes.length });
    expect(await fx.upload(id, 3, now.hash, deb.name, deb.bytes)).toEqual({ created: false, size: deb.bytes.length });
    // What an earlier attempt left on the record goes: a success has no reason and no failure class.
    await rig.ctx.store.transition({
      ...onRecord(id),
      set: { reason: 'left by attempt 2', failureClass: 'lost-host' },
    });
    const result = report({ attempt: 3, reason: 'ignored', artifacts: [digest], startupMs: 12.6, resources });
    expect(await acceptResult(rig.ctx, id, 'amd64', result, now.hash)).toBe('succeeded');

    const build = await rig.ctx.store.getBuild(id, 'amd64');
    const recorded = { ...digest, uploadedAt: expect.any(String), publishedTo: 'stable' };
    expect(build).toMatchObject({ state: 'succeeded', attempt: 3, builder: 'worker-b', artifacts: [recorded] });
    expect(build).toMatchObject({ finishedAt: result.finishedAt, phases: { build: 1234 }, startupMs: 13, resources });
    expect([build?.reason, build?.failureClass]).toEqual([undefined, undefined]);
    expect(await fx.lastLogEntry(id)).toMatchObject({ eof: { state: 'succeeded', reason: '' } });
    expect(repairs(id)).toEqual([]);
    const ended = await rig.endOf(id, 'amd64', 0);
    expect(ended).toMatchObject({ state: 'succeeded', startedAt: result.startedAt, finishedAt: result.finishedAt });
    expect(ended).toMatchObject({ builder: 'worker-b', artifacts: [recorded], resources });
    expect(await fx.packages()).toContain(`SHA256: ${deb.sha256}`);
    expect(await readdir(rig.ctx.layout.artifactsRoot(id, 'amd64'))).toEqual(['r1a3']);
    // The log is archived (in the background) and leaves the list of logs to archive.
    await rig.farm.waitFor(
      async () => !(await rig.ctx.redis.sismember(rig.ctx.keys.unarchivedLogs, logMember(id, 'amd64', 1))),
      20_000,
      'the log to be archived',
    );
    await access(rig.ctx.layout.logFile(id, 'amd64', 1));
  });

  it("records a failure with the worker's reason and class, or `build`, and ends its log with them", async () => {
    const timedOut = await fx.claimed('timed-out');
    const failed = report({ status: 'failed', reason: 'ran past 2h', failureClass: 'timeout', builder: 'worker-a' });
    expect(await acceptResult(rig.ctx, timedOut.id, 'amd64', failed, timedOut.claim.hash)).toBe('failed');
    expect(await rig.ctx.store.getBuild(timedOut.id, 'amd64')).toMatchObject({
      state: 'failed',
      reason: 'ran past 2h',
      failureClass: 'timeout',
      artifacts: [],
    });
    expect(await fx.lastLogEntry(timedOut.id)).toMatchObject({ eof: { state: 'failed', reason: 'ran past 2h' } });
    expect(await rig.endOf(timedOut.id, 'amd64', 0)).toMatchObject({ state: 'failed', reason: 'ran past 2h' });

    // Artifacts a failed build lists are not recorded; a failure without a class is the build's.
    const plain = await fx.claimed('plain-fail');
    // A reason an earlier step left on the record gives way to the worker's.
    await rig.ctx.store.transition({ ...onRecord(plain.id), set: { reason: 'left by placement' } });
    const listed = report({ status: 'failed', reason: 'make: *** [all] Error 2', artifacts: [plain.digest] });
    expect(await acceptResult(rig.ctx, plain.id, 'amd64', listed, plain.claim.hash)).toBe('failed');
    const build = await rig.ctx.store.getBuild(plain.id, 'amd64');
    expect(build).toMatchObject({ failureClass: 'build', artifacts: [], reason: 'make: *** [all] Error 2' });
    expect(build?.startupMs).toBeUndefined();
    expect(repairs(plain.id)).toEqual([]);
  });

  it('records a cancel with the reason the cancel gave, else with the worker’s', async () => {
    const asked = await fx.claimed('asked-to-stop');
    const cancel = await inject(rig.app, 'POST', `/task/${asked.id}/cancel`, { token: farmTokens.maintainer });
    expect(cancel.statusCode).toBe(202);
    const stopped = report({ status: 'cancelled', reason: 'cancelled' });
    expect(await acceptResult(rig.ctx, asked.id, 'amd64', stopped, asked.claim.hash)).toBe('cancelled');
    const reason = 'cancelled by maintainer-user';
    expect(await rig.ctx.store.getBuild(asked.id, 'amd64')).toMatchObject({ reason, failureClass: 'cancelled' });
    expect(await fx.lastLogEntry(asked.id)).toMatchObject({ eof: { state: 'cancelled', reason } });
    expect(await rig.endOf(asked.id, 'amd64', 0)).toMatchObject({ state: 'cancelled', reason });

    const itself = await fx.claimed('stopped-itself');
    const shutdown = report({ status: 'cancelled', reason: 'the worker shut down', failureClass: 'infrastructure' });
    expect(await acceptResult(rig.ctx, itself.id, 'amd64', shutdown, itself.claim.hash)).toBe('cancelled');
    expect(await rig.ctx.store.getBuild(itself.id, 'amd64')).toMatchObject({
      reason: 'the worker shut down',
      failureClass: 'infrastructure',
    });
  });

  it('holds debs from the branch for a layer over builds; fails a deb the repository cannot read', async () => {
    const held = await fx.claimed('held-back');
    const unregister = rig.ctx.lifecycle.register({
      publishing: async (task) => ({ toBranch: task.id !== held.id }),
    });
    try {
      await fx.upload(held.id, 1, held.claim.hash, held.deb.name, held.deb.bytes);
      const state = await acceptResult(
        rig.ctx,
        held.id,
        'amd64',
        report({ artifacts: [held.digest] }),
        held.claim.hash,
      );
      expect(state).toBe('succeeded');
      const build = await rig.ctx.store.getBuild(held.id, 'amd64');
      expect(build?.artifacts).toEqual([{ ...held.digest, uploadedAt: expect.any(String) }]);
      expect(await fx.packages()).not.toContain(held.deb.sha256);
    } finally {
      unregister();
    }

    const { id, claim } = await fx.claimed('garbage');
    const bytes = Buffer.from('not an ar archive at all');
    const name = 'garbage_1.0-0_amd64.deb';
    await fx.upload(id, 1, claim.hash, name, bytes);
    const digest = { name, size: bytes.length, sha256: sha(bytes) };
    expect(await acceptResult(rig.ctx, id, 'amd64', report({ artifacts: [digest] }), claim.hash)).toBe('failed');
    const build = await rig.ctx.store.getBuild(id, 'amd64');
    expect(build).toMatchObject({ failureClass: 'build', reason: expect.stringContaining(name) });
    expect(build?.artifacts).toEqual([{ ...digest, uploadedAt: expect.any(String) }]);
    expect(await fx.lastLogEntry(id)).toMatchObject({ eof: { state: 'failed', reason: build?.reason } });
  });

  it('fails a success the repository refuses (same package and version, other file), publishing nothing', async () => {
    const first = await fx.claimed('clash');
    await fx.upload(first.id, 1, first.claim.hash, first.deb.name, first.deb.bytes);
    const published = report({ artifacts: [first.digest] });
    expect(await acceptResult(rig.ctx, first.id, 'amd64', published, first.claim.hash)).toBe('succeeded');
    const again = await fx.claimed('clash-again');
    const copy = { ...first.digest, name: 'clash-copy_1.0-0_amd64.deb' };
    await fx.upload(again.id, 1, again.claim.hash, copy.name, first.deb.bytes);
    expect(await acceptResult(rig.ctx, again.id, 'amd64', report({ artifacts: [copy] }), again.claim.hash)).toBe(
      'failed',
    );
    const build = await rig.ctx.store.getBuild(again.id, 'amd64');
    expect(build).toMatchObject({ failureClass: 'build', artifacts: [{ ...copy, uploadedAt: expect.any(String) }] });
    expect(build?.reason).toContain('clash 1.0-0 (amd64) is already published as clash_1.0-0_amd64.deb');
    expect(build?.artifacts?.[0]?.publishedTo).toBeUndefined();
    expect(await fx.packages()).not.toContain(copy.name);
  });
});
