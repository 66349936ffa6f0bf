import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attemptKeyHash,
  attemptKeyHeader,
  farmKeys,
  readLogEntries,
  type BuildJobData,
  type BuildJobResult,
} from '@aoinb/farm-protocol';
import type { JobRunner } from './job-runner.ts';
import type { RunningJob } from './running-job.ts';
import { useSeamRig } from '../test-support/seam-rig.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * JobRunner at its seams: the build records and log streams in a real
 * redis-server (through the store's scripts), BullMQ jobs on real queues, and
 * a stand-in coordinator (a real HTTP server) for bundle, uploads and result.
 */
describe('JobRunner against a real Redis and a stand-in coordinator', () => {
  const seam = useSeamRig('job-runner');
  const started: RunningJob[] = [];
  const finished: RunningJob[] = [];

  afterEach(() => {
    seam.coordinator.requests.length = 0;
    seam.coordinator.answer = undefined;
    started.length = 0;
    finished.length = 0;
  });

  const runner = (options: { durationMs?: number } = {}): JobRunner =>
    seam.runner({
      builderId: 'seam-worker',
      durationMs: options.durationMs,
      onStarted: (job) => started.push(job),
      onFinished: (job) => finished.push(job),
    });

  const logLines = async (data: BuildJobData) =>
    (await readLogEntries(seam.redis, farmKeys.log(data.taskId, data.arch, data.run), '0', 1000)).flatMap(
      (e) => e.lines,
    );
  const reported = (taskId: string): BuildJobResult[] =>
    seam.coordinator.seen('PUT', new RegExp(`^/task/${taskId}/result/`)).map((r) => JSON.parse(r.body.toString()));

  it('claims the build, checks the bundle, uploads each .deb with the attempt key and reports the result', async () => {
    const { job, data } = await seam.queued({ name: 'seam-ok' });
    const result = await runner().process(job!, 'bull-token');

    expect(result).toMatchObject({ status: 'succeeded', builder: 'seam-worker', attempt: 1 });
    const build = await seam.store.getBuild(data.taskId, 'amd64');
    expect(build).toMatchObject({ state: 'running', attempt: 1, builder: 'seam-worker' });

    const [download] = seam.coordinator.seen('GET', new RegExp(`^/task/${data.taskId}/build_bundle$`));
    expect(download?.headers.authorization).toBe('Bearer seam-worker-token');
    const uploads = seam.coordinator.seen('PUT', new RegExp(`^/task/${data.taskId}/artifact/amd64/`));
    expect(uploads).toHaveLength(1);
    const upload = uploads[0]!;
    expect(upload.url).toBe(`/task/${data.taskId}/artifact/amd64/seam-ok_1.0-0_amd64.deb?run=1&attempt=1`);
    expect(upload.headers['x-checksum-sha256']).toBe(sha256(upload.body));
    // The key is the attempt's secret: the record holds only its hash.
    const key = upload.headers[attemptKeyHeader] as string;
    expect(attemptKeyHash(key, { taskId: data.taskId, arch: 'amd64', run: 1 })).toBe(build?.attemptKeyHash);

    const [report] = seam.coordinator.seen('PUT', new RegExp(`^/task/${data.taskId}/result/amd64$`));
    expect(report?.headers[attemptKeyHeader]).toBe(key);
    expect(reported(data.taskId)).toEqual([result]);
    expect(result.artifacts).toEqual([
      { name: 'seam-ok_1.0-0_amd64.deb', size: upload.body.length, sha256: sha256(upload.body) },
    ]);
    const lines = await logLines(data);
    expect(lines[0]).toMatch(/^\[aoinb\] seam-ok 1\.0-0 for amd64 on branch stable: attempt 1 on builder seam-worker/);
    expect(lines).toContain('fake build line 0');
    expect(started.map((j) => j.jobId)).toEqual([job!.id]);
    expect(finished.map((j) => j.jobId)).toEqual([job!.id]);
    // The build's scratch folder is gone.
    expect(await readdir(path.join(seam.dir, 'jobs'))).toEqual([]);
  });

  it('fails the build, with the reason, when the bundle does not match its sha256; uploads nothing', async () => {
    const { job, data } = await seam.queued({ name: 'seam-tampered', patch: { bundleSha256: '0'.repeat(64) } });
    const result = await runner().process(job!, 'bull-token');
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/sha256 [0-9a-f]{64} does not match the task's 0{64}/);
    expect(seam.coordinator.seen('PUT', /\/artifact\//)).toEqual([]);
    expect(reported(data.taskId)).toEqual([result]);
    expect(await logLines(data)).toContain(`[aoinb] failed: ${result.reason}`);
  });

  it('reports a failed build as a result, with nothing uploaded', async () => {
    const { job, data } = await seam.queued({ name: 'seam-broken', fake: { fail: 'broken on purpose' } });
    const result = await runner().process(job!, 'bull-token');
    expect(result).toMatchObject({ status: 'failed', reason: 'broken on purpose', artifacts: [] });
    expect(seam.coordinator.seen('PUT', /\/artifact\//)).toEqual([]);
    expect(reported(data.taskId)).toEqual([result]);
  });

  it('ends a build cancelled before it started without downloading, and ends its log', async () => {
    const { job, data } = await seam.queued({ name: 'seam-cancelled' });
    const asked = await seam.store.transition({
      taskId: data.taskId,
      arch: 'amd64',
      archs: ['amd64'],
      run: 1,
      from: ['queued'],
      set: { cancelRequested: true, reason: 'cancelled by seam-test' },
    });
    expect(asked.done).toBe(true);
    const result = await runner().process(job!, 'bull-token');
    expect(result).toMatchObject({ status: 'cancelled', reason: 'cancelled before it started' });
    expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'cancelled', attempt: 0 });
    expect(seam.coordinator.requests).toEqual([]);
    const entries = await readLogEntries(seam.redis, farmKeys.log(data.taskId, 'amd64', 1), '0', 100);
    expect(entries.at(-1)?.eof).toEqual({ state: 'cancelled', reason: 'cancelled before it started' });
    expect(started).toEqual([]);
  });

  it('skips a job whose build is already settled, and asks the coordinator nothing', async () => {
    const { job, data } = await seam.queued({ name: 'seam-settled' });
    const base = { taskId: data.taskId, arch: 'amd64', archs: ['amd64'], run: 1 };
    await seam.store.transition({ ...base, from: ['queued'], to: 'running', incrementAttempt: true });
    await seam.store.transition({ ...base, from: ['running'], to: 'succeeded' });
    const result = await runner().process(job!, 'bull-token');
    expect(result).toMatchObject({ status: 'succeeded', reason: 'build is already succeeded; nothing to do' });
    expect(seam.coordinator.requests).toEqual([]);
    expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'succeeded', attempt: 1 });
  });

  it('fences an old attempt: a second claim is attempt 2; a 409 on the old result is dropped, not thrown', async () => {
    const { job, data } = await seam.queued({ name: 'seam-fenced' });
    seam.coordinator.answer = (r) =>
      r.method === 'PUT' && r.url.includes('/result/')
        ? { status: 409, body: { error: { code: 'CONFLICT', message: 'a newer attempt owns the build' } } }
        : undefined;
    const first = await runner().process(job!, 'bull-token');
    const again = await runner().process(job!, 'bull-token');
    expect([first.attempt, again.attempt]).toEqual([1, 2]);
    // 4xx is final: one request per report, no retry.
    expect(reported(data.taskId)).toHaveLength(2);
    const lines = await logLines(data);
    expect(lines).toContain('[aoinb] builder seam-worker stopped answering during attempt 1; the build starts again');
  });

  it('fails a build that outlives its job timeout, saying so', async () => {
    const { job, data } = await seam.queued({ name: 'seam-slow', patch: { timeoutMs: 1000 } });
    const result = await runner({ durationMs: 60_000 }).process(job!, 'bull-token');
    expect(result).toMatchObject({ status: 'failed', reason: 'timed out: the job timeout is 1 s' });
    expect(reported(data.taskId)).toEqual([result]);
  });

  it('stops a running build when BullMQ aborts it, and reports it cancelled', async () => {
    const { job, data } = await seam.queued({ name: 'seam-aborted' });
    const abort = new AbortController();
    const running = runner({ durationMs: 60_000 }).process(job!, 'bull-token', abort.signal);
    await waitFor(async () => (await logLines(data)).includes('fake build line 4'), 'the build to run');
    abort.abort();
    const result = await running;
    expect(result).toMatchObject({ status: 'cancelled', reason: 'cancelled by request' });
    expect(reported(data.taskId)).toEqual([result]);
  });
});

/** Polls until `check` holds; throws naming `what` after 120 s (a deadline for hangs, not a speed limit). */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
