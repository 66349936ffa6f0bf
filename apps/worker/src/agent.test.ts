import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@aoinb/config';
import { silentLogger } from '@aoinb/logging';
import {
  claimFarmIdentity,
  farmKeys,
  newFarmIdentity,
  publishCancel,
  readBuilders,
  readLogEntries,
  type BuildJobResult,
} from '@aoinb/farm-protocol';
import { writeTestConfig } from '@aoinb/testkit';
import { startWorkerAgent, type WorkerAgent } from './agent.ts';
import { fakeExecutor } from '../test-support/fake-executor.ts';
import { useSeamRig } from '../test-support/seam-rig.ts';

/**
 * The worker agent in process: its BullMQ workers, heartbeat and cancel
 * listener on a real redis-server, the fake executor, and a stand-in
 * coordinator (a real HTTP server) for bundles, uploads and results.
 */
describe('the worker agent against a real Redis and a stand-in coordinator', () => {
  // The coordinator writes the farm's identity at its first start; agents wait for one before they take work.
  const seam = useSeamRig('agent', {
    prepare: async (redis) => void (await claimFarmIdentity(redis, newFarmIdentity())),
  });
  let agent: WorkerAgent | undefined;

  afterEach(async () => {
    await agent?.stop('requeue');
    agent = undefined;
    seam.coordinator.requests.length = 0;
  });

  /** `workerToml`: more `[worker]` lines. */
  async function startAgent(id: string, durationMs = 20, workerToml: string[] = []): Promise<WorkerAgent> {
    const configDir = path.join(seam.dir, 'conf', id);
    await mkdir(path.join(configDir, 'secrets'), { recursive: true });
    await writeFile(path.join(configDir, 'secrets/worker.token'), 'seam-worker-token\n');
    await writeTestConfig({
      dir: configDir,
      workDir: path.join(seam.dir, 'work', id),
      arch: 'amd64',
      sourceLists: { stable: 'deb http://127.0.0.1:9/debian bookworm main' },
      extraToml: [
        '[coordinator]',
        'archs = ["amd64", "riscv64"]',
        'stalled_interval_seconds = 1',
        '[redis]',
        `url = "${seam.redisUrl}"`,
        '[worker]',
        `id = "${id}"`,
        'archs = ["amd64"]',
        'token_file = "secrets/worker.token"',
        'heartbeat_seconds = 1',
        'lock_seconds = 2',
        ...workerToml,
      ].join('\n'),
    });
    const config = await loadConfig(configDir);
    agent = await startWorkerAgent({
      config,
      logger: silentLogger(),
      executor: fakeExecutor({ durationMs, sampleIntervalMs: 0 }),
      coordinatorUrl: seam.coordinator.url,
    });
    return agent;
  }

  const reported = (taskId: string): BuildJobResult[] =>
    seam.coordinator.seen('PUT', new RegExp(`^/task/${taskId}/result/`)).map((r) => JSON.parse(r.body.toString()));
  const builderOf = async (id: string) => (await readBuilders(seam.redis)).find((b) => b.id === id);

  it('builds the jobs of its arch tags and reports them; heartbeats while up, retires on stop', async () => {
    const other = await seam.queued({ name: 'agent-riscv', arch: 'riscv64' });
    const mine = await seam.queued({ name: 'agent-amd64' });
    const a = await startAgent('agent-1');
    expect(await builderOf('agent-1')).toMatchObject({ state: expect.stringMatching(/^(idle|building)$/) });
    await waitFor(async () => reported(mine.data.taskId).length === 1, 'the amd64 result');
    expect(reported(mine.data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'agent-1', attempt: 1 });
    await waitFor(async () => (await mine.job!.getState()) === 'completed', 'the job to complete');
    // Not its arch: untouched.
    expect(await other.job!.getState()).toBe('waiting');
    expect(seam.coordinator.seen('GET', new RegExp(`^/task/${other.data.taskId}/`))).toEqual([]);
    await a.stop('finish');
    expect(await builderOf('agent-1')).toMatchObject({ state: 'offline' });
  });

  it('aborts a running build on a cancel message and reports it cancelled', async () => {
    const { data, job } = await seam.queued({ name: 'agent-cancel' });
    await startAgent('agent-2', 60_000);
    await waitFor(
      async () => (await seam.store.getBuild(data.taskId, 'amd64'))?.state === 'running',
      'the build to run',
    );
    await publishCancel(seam.redis, {
      taskId: data.taskId,
      arch: 'amd64',
      run: 1,
      attempt: 1,
      jobId: job!.id!,
      reason: 'cancelled by test',
    });
    await waitFor(async () => reported(data.taskId).length === 1, 'the cancelled result');
    expect(reported(data.taskId)[0]).toMatchObject({ status: 'cancelled', reason: 'cancelled by request' });
  });

  it('puts off a job a settling build refused for its [worker] settle_put_off_seconds, using no attempt', async () => {
    // A job re-queued while attempt 1's report publishes (its fence set the settle mark, 300 s by default).
    const { data, job } = await seam.queued({ name: 'agent-settle-put-off' });
    const { base, hash } = await seam.settling(data, 'reporting-worker');
    // Far from the 2 s default, so the put-off read back is the configured one.
    await startAgent('agent-settle', 20, ['settle_put_off_seconds = 45']);
    await waitFor(async () => (await job!.getState()) === 'delayed', 'the job to be put off');
    const putOff = await seam.queue('amd64').getJob(job!.id!);
    // BullMQ keeps the delay it was given (ms): 45 s less the few ms between the worker's clock reads.
    expect(putOff?.delay).toBeGreaterThan(44_000);
    expect(putOff?.delay).toBeLessThanOrEqual(45_000);
    expect(putOff?.attemptsMade).toBe(0);
    expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'running', attempt: 1 });
    expect(reported(data.taskId)).toEqual([]);
    // The report ends the build: fetched again after this test, the job completes without a build.
    const final = { ...base, from: ['running' as const], to: 'succeeded' as const, attempt: { equals: 1 } };
    expect((await seam.store.transition({ ...final, attemptKeyHash: hash })).done).toBe(true);
  });

  it('hands a running build back to the queue on stop("requeue"), fenced on its attempt', async () => {
    const { data, job } = await seam.queued({ name: 'agent-handback' });
    const a = await startAgent('agent-3', 60_000);
    await waitFor(
      async () => (await seam.store.getBuild(data.taskId, 'amd64'))?.state === 'running',
      'the build to run',
    );
    await a.stop('requeue');
    agent = undefined;
    expect(await seam.store.getBuild(data.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 1 });
    expect(await job!.getState()).toBe('waiting');
    expect(reported(data.taskId)).toEqual([]);
    const lines = (await readLogEntries(seam.redis, farmKeys.log(data.taskId, 'amd64', 1), '0', 100)).flatMap(
      (e) => e.lines,
    );
    expect(lines).toContain('[aoinb] builder agent-3 is shutting down: build handed back to the queue');
    // The next agent takes it up as attempt 2.
    await startAgent('agent-4');
    await waitFor(async () => reported(data.taskId).length === 1, 'the second attempt');
    expect(reported(data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'agent-4', attempt: 2 });
  });
});

/** Polls until `check` holds; throws naming `what` after 120 s (a deadline for hangs, not a speed limit). */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
