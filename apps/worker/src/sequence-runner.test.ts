import { afterEach, describe, expect, it } from 'vitest';
import {
  buildJobName,
  memberKey,
  type BuildJobData,
  type BuildJobResult,
  type SequenceStep,
} from '@aoinb/farm-protocol';
import type { RunningJob } from './running-job.ts';
import { useSeamRig } from '../test-support/seam-rig.ts';

/**
 * A sequential group's job through JobRunner: every step a build of its own
 * (claimed, built, uploaded, reported) in order, on a real Redis with a
 * stand-in coordinator; steps whose dependency failed are left alone.
 */
describe('sequence jobs against a real Redis and a stand-in coordinator', () => {
  const seam = useSeamRig('sequence');
  let sequences = 0;

  afterEach(() => {
    seam.coordinator.requests.length = 0;
  });

  const runner = (onStarted?: (job: RunningJob) => void) =>
    seam.runner({ builderId: 'seq-worker', token: 't', durationMs: 10, onStarted });
  const step = (data: BuildJobData, after: BuildJobData[] = []): SequenceStep => ({
    ...data,
    after: after.map((d) => memberKey(d.taskId, d.arch)),
  });
  /** The order the stand-in saw results in: task ids. */
  const reportOrder = () =>
    seam.coordinator.seen('PUT', /^\/task\/\d+\/result\//).map((r) => /^\/task\/(\d+)\//.exec(r.url)![1]!);
  async function sequenceJob(steps: SequenceStep[]) {
    sequences += 1;
    const { after: _after, ...first } = steps[0]!;
    void _after;
    return seam.queue('amd64').add(buildJobName, { ...first, sequence: steps }, { jobId: `s${sequences}-amd64-r1` });
  }

  it('builds each step in order as a build of its own, and sums them up', async () => {
    const a = (await seam.queued({ name: 'seq-a', noJob: true })).data;
    const b = (await seam.queued({ name: 'seq-b', noJob: true })).data;
    const c = (await seam.queued({ name: 'seq-c', noJob: true })).data;
    const job = await sequenceJob([step(a), step(b, [a]), step(c, [a, b])]);
    settleResults();
    const result = await runner().process(job, 'bull-token');
    seam.coordinator.answer = undefined;
    expect(reportOrder()).toEqual([a.taskId, b.taskId, c.taskId]);
    expect(result).toMatchObject({ status: 'succeeded', builder: 'seq-worker' });
    expect(result.artifacts.map((x) => x.name)).toEqual([
      'seq-a_1.0-0_amd64.deb',
      'seq-b_1.0-0_amd64.deb',
      'seq-c_1.0-0_amd64.deb',
    ]);
    for (const d of [a, b, c])
      expect(await seam.store.getBuild(d.taskId, 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
  });

  it('leaves the steps after a failed dependency unbuilt (the coordinator marks them skipped)', async () => {
    const a = (await seam.queued({ name: 'seq-fail', fake: { fail: 'step a broke' }, noJob: true })).data;
    const b = (await seam.queued({ name: 'seq-needs-a', noJob: true })).data;
    const c = (await seam.queued({ name: 'seq-free', noJob: true })).data;
    const job = await sequenceJob([step(a), step(b, [a]), step(c)]);
    settleResults();
    const result = await runner().process(job, 'bull-token');
    seam.coordinator.answer = undefined;
    expect(reportOrder()).toEqual([a.taskId, c.taskId]);
    expect(seam.coordinator.seen('GET', new RegExp(`^/task/${b.taskId}/`))).toEqual([]);
    expect(await seam.store.getBuild(b.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    expect(result).toMatchObject({ status: 'failed', reason: '1 of 2 steps did not succeed' });
  });

  it('waits for a dependency another sequence is still building, then builds', async () => {
    const outside = (await seam.queued({ name: 'seq-noarch', noJob: true })).data;
    const base = { taskId: outside.taskId, arch: 'amd64', archs: ['amd64'], run: 1 };
    await seam.store.transition({ ...base, from: ['queued'], to: 'running', incrementAttempt: true });
    const d = (await seam.queued({ name: 'seq-after-noarch', noJob: true })).data;
    const job = await sequenceJob([step(d, [outside])]);
    let waiting: (job: RunningJob) => void = () => undefined;
    const listed = new Promise<RunningJob>((resolve) => (waiting = resolve));
    const running = runner((j) => waiting(j)).process(job, 'bull-token');
    // While it waits the step is listed as running on this builder (so cancel and shutdown reach it)...
    expect((await listed).data.taskId).toBe(d.taskId);
    // ...and nothing is claimed or asked of the coordinator.
    expect(seam.coordinator.requests).toEqual([]);
    expect(await seam.store.getBuild(d.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    await seam.store.transition({ ...base, from: ['running'], to: 'succeeded' });
    const result = await running;
    expect(result.status).toBe('succeeded');
    expect(reportOrder()).toEqual([d.taskId]);
  });

  /** The stand-in accepts results without settling the records: settle each as the coordinator would (until reset). */
  function settleResults(): void {
    seam.coordinator.answer = (r) => {
      const m = /^\/task\/(\d+)\/result\/amd64$/.exec(r.url);
      if (r.method === 'PUT' && m) void settle(m[1]!, (JSON.parse(r.body.toString()) as BuildJobResult).status);
      return undefined;
    };
  }

  /** What the coordinator does on a result: the build's final state, fenced on the running attempt. */
  async function settle(taskId: string, status: BuildJobResult['status']): Promise<void> {
    await seam.store.transition({ taskId, arch: 'amd64', archs: ['amd64'], run: 1, from: ['running'], to: status });
  }
});
