import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AoinbError } from '@aoinb/errors';
import type { BuildJobResult, TransitionRequest } from '@aoinb/farm-protocol';
import { makeTestDeb } from '@aoinb/testkit';
import { useServiceRig } from '../../test-support/service-rig.ts';
import { acceptResult, receiveArtifact } from './result-service.ts';

const report = (over: Partial<BuildJobResult> = {}): BuildJobResult => ({
  status: 'failed',
  reason: 'compile error',
  builder: 'worker-a',
  run: 1,
  attempt: 1,
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:05:00.000Z',
  artifacts: [],
  phases: {},
  ...over,
});

/** The AoinbError a call rejects with (the test fails if it resolves). */
async function refusal(call: Promise<unknown>): Promise<AoinbError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AoinbError);
  return error as AoinbError;
}

/**
 * The result service's fences, in process over a real redis-server: a report or an upload of a run or
 * attempt that is no longer the build's is refused, changes nothing and is logged as stale; a wrong key
 * or a finished build is refused without that warning.
 */
describe('fencing of worker reports and uploads', () => {
  const rig = useServiceRig({ archs: ['amd64', 'arm64'] });
  const stale = () => rig.logs.filter((l) => /^stale .* refused$/.test(l.msg));
  /** A change of the running amd64 build at run 1 through the store, without the attempt's key (as recovery's). */
  async function changeRunning(
    id: string,
    change: Pick<TransitionRequest, 'to' | 'set' | 'from' | 'incrementAttempt'>,
  ) {
    const archs = (await rig.ctx.store.getTask(id))!.archs;
    return rig.ctx.store.transition({ taskId: id, arch: 'amd64', run: 1, archs, from: ['running'], ...change });
  }
  /** A change of the running build through the store, on its current run and attempt. */
  async function moveOn(id: string, change: Pick<TransitionRequest, 'to' | 'set'>): Promise<void> {
    expect((await changeRunning(id, change)).done).toBe(true);
  }

  it('refuses and logs the report of an attempt that was claimed again, and changes nothing', async () => {
    const id = await rig.queued({ name: 'reclaimed' }, ['amd64']);
    const first = await rig.claim(id, 'amd64', 'worker-a');
    const second = await rig.claim(id, 'amd64', 'worker-b');
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    const error = await refusal(acceptResult(rig.ctx, id, 'amd64', report({ attempt: 1 }), first.hash));
    expect(error.code).toBe('STALE_ATTEMPT');
    expect(error.message).toBe(
      `task ${id} (amd64) is at run 1 attempt 2 (running); the result of run 1 attempt 1 is no longer ` +
        'current and was not applied',
    );
    expect(stale()).toContainEqual(
      expect.objectContaining({
        msg: 'stale result refused',
        level: 40,
        taskId: id,
        arch: 'amd64',
        run: 1,
        attempt: 1,
        current: { run: 1, attempt: 2, state: 'running' },
      }),
    );
    expect(await rig.ctx.store.getBuild(id, 'amd64')).toMatchObject({ state: 'running', attempt: 2 });
    expect(rig.ended.filter((e) => e.build.taskId === id)).toEqual([]);
    // The current attempt's report still counts.
    expect(await acceptResult(rig.ctx, id, 'amd64', report({ attempt: 2 }), second.hash)).toBe('failed');
  });

  it("refuses and logs a stale attempt's upload before storing a byte", async () => {
    const id = await rig.queued({ name: 'late-upload' }, ['amd64']);
    const first = await rig.claim(id, 'amd64', 'worker-a');
    await rig.claim(id, 'amd64', 'worker-b');
    const deb = await makeTestDeb({ dir: `${rig.farm.root}/debs/late`, name: 'late-upload', arch: 'amd64' });
    const call = { run: 1, attempt: 1, attemptKeyHash: first.hash };
    const error = await refusal(
      receiveArtifact(rig.ctx, id, 'amd64', deb.name, call, deb.sha256, Readable.from([deb.bytes])),
    );
    expect(error.code).toBe('STALE_ATTEMPT');
    expect(error.message).toContain(`the upload of ${deb.name} of run 1 attempt 1 is no longer current`);
    expect(stale()).toContainEqual(
      expect.objectContaining({ msg: `stale upload of ${deb.name} refused`, taskId: id, attempt: 1 }),
    );
    const root = rig.ctx.layout.artifactsRoot(id, 'amd64');
    expect(await readdir(root).catch(() => [])).toEqual([]);
  });

  it('refuses and logs the report of an earlier run', async () => {
    const id = await rig.queued({ name: 'old-run' }, ['amd64']);
    const claim = await rig.claim(id, 'amd64', 'worker-a');
    const error = await refusal(acceptResult(rig.ctx, id, 'amd64', report({ run: 2 }), claim.hash));
    expect(error.code).toBe('STALE_ATTEMPT');
    expect(error.message).toContain('is at run 1 attempt 1 (running); the result of run 2 attempt 1');
    expect(stale()).toContainEqual(expect.objectContaining({ taskId: id, run: 2, current: expect.anything() }));
    expect(await rig.ctx.store.getBuild(id, 'amd64')).toMatchObject({ state: 'running', run: 1 });
  });

  it('refuses the attempt under another key, and a report for a finished build, with no stale warning', async () => {
    const id = await rig.queued({ name: 'keyed' }, ['amd64']);
    const claim = await rig.claim(id, 'amd64', 'worker-a');
    const before = stale().length;
    const forged = await refusal(acceptResult(rig.ctx, id, 'amd64', report(), 'f'.repeat(64)));
    expect(forged.code).toBe('FORBIDDEN');
    expect(forged.message).toContain(`task ${id} (amd64): the`);
    expect(await acceptResult(rig.ctx, id, 'amd64', report(), claim.hash)).toBe('failed');
    const again = await refusal(acceptResult(rig.ctx, id, 'amd64', report({ status: 'succeeded' }), claim.hash));
    expect(again.code).toBe('CONFLICT');
    expect(again.message).toBe(
      `task ${id} (amd64) is failed at run 1 attempt 1; the result of run 1 attempt 1 was not applied`,
    );
    expect(stale()).toHaveLength(before);
    expect(await rig.ctx.store.getBuild(id, 'amd64')).toMatchObject({ state: 'failed', reason: 'compile error' });
  });

  /** A report of `name` whose build `change` moves on while it is published (a layer asked before the state). */
  async function reportMovedOn(name: string, change: (id: string) => Promise<unknown>) {
    const id = await rig.queued({ name: `moved-${name}` }, ['amd64']);
    const claim = await rig.claim(id, 'amd64', 'worker-a');
    const unregister = rig.ctx.lifecycle.register({
      publishing: async (task) => {
        if (task.id === id) await change(id);
        return { toBranch: false };
      },
    });
    const deb = await makeTestDeb({ dir: `${rig.farm.root}/debs/${name}`, name: `moved-${name}`, arch: 'amd64' });
    const call = { run: 1, attempt: 1, attemptKeyHash: claim.hash };
    await receiveArtifact(rig.ctx, id, 'amd64', deb.name, call, deb.sha256, Readable.from([deb.bytes]));
    const artifacts = [{ name: deb.name, size: deb.bytes.length, sha256: deb.sha256 }];
    const success = report({ status: 'succeeded', reason: undefined, artifacts });
    return { id, accepted: acceptResult(rig.ctx, id, 'amd64', success, claim.hash).finally(unregister) };
  }

  it('refuses, in the same step as the state change, a report whose key was replaced while it published', async () => {
    const { id, accepted } = await reportMovedOn('rekeyed', (id) =>
      moveOn(id, { set: { attemptKeyHash: 'e'.repeat(64) } }),
    );
    const error = await refusal(accepted);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/header is missing/);
    expect((await rig.ctx.store.getBuild(id, 'amd64'))?.state).not.toBe('succeeded');
    expect(rig.ended.filter((e) => e.build.taskId === id && e.build.state === 'succeeded')).toEqual([]);
  });

  it('holds off a claim, a requeue and a failure while a report publishes (settle mark): one success', async () => {
    // The redis-kill double build: a job re-queued under a report (its lock lapsed) claimed attempt 2 and built
    // again what the report was publishing. Now each change without the attempt's key waits for the report.
    const refusals: string[] = [];
    const tryChange = async (id: string, to: 'running' | 'queued' | 'failed') => {
      const claim = to === 'running' ? { incrementAttempt: true, from: ['queued' as const, 'running' as const] } : {};
      refusals.push(`${to}:${(await changeRunning(id, { to, ...claim })).refusal}`);
    };
    const { id, accepted } = await reportMovedOn('held-off', async (id) => {
      for (const to of ['running', 'queued', 'failed'] as const) await tryChange(id, to);
    });
    expect(await accepted).toBe('succeeded');
    expect(refusals).toEqual(['running:settling', 'queued:settling', 'failed:settling']);
    expect(await rig.ctx.store.getBuild(id, 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
  });

  it('answers NOT_FOUND for an arch the task does not build and for an unknown task', async () => {
    const id = await rig.queued({ name: 'one-arch' }, ['amd64']);
    const claim = await rig.claim(id, 'amd64', 'worker-a');
    const other = await refusal(acceptResult(rig.ctx, id, 'arm64', report(), claim.hash));
    expect([other.code, other.message]).toEqual(['NOT_FOUND', `task ${id} has no build for arm64`]);
    const none = await refusal(acceptResult(rig.ctx, '999999', 'amd64', report(), claim.hash));
    expect(none.code).toBe('NOT_FOUND');
    const call = { run: 1, attempt: 1, attemptKeyHash: claim.hash };
    const upload = await refusal(receiveArtifact(rig.ctx, id, 'arm64', 'x_1_arm64.deb', call, '0', Readable.from([])));
    expect([upload.code, upload.message]).toEqual(['NOT_FOUND', `task ${id} has no build for arm64`]);
  });

  it('refuses an upload whose name is not a .deb file name, before any fence or byte', async () => {
    const id = await rig.queued({ name: 'named' }, ['amd64']);
    const claim = await rig.claim(id, 'amd64', 'worker-a');
    const call = { run: 1, attempt: 1, attemptKeyHash: claim.hash };
    for (const name of ['../escape.deb', 'x.tar', '.hidden.deb', 'a/b.deb', 'x.deb.sha256']) {
      const error = await refusal(receiveArtifact(rig.ctx, id, 'amd64', name, call, '0', Readable.from([])));
      expect([error.code, error.message]).toEqual([
        'USAGE',
        `artifact name ${JSON.stringify(name)} is not a .deb file name`,
      ]);
    }
    expect(await readdir(rig.ctx.layout.artifactsRoot(id, 'amd64')).catch(() => [])).toEqual([]);
  });
});
