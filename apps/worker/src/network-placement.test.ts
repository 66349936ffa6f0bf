import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildRequest } from '@aoinb/buildroot';
import { loadConfig } from '@aoinb/config';
import { silentLogger } from '@aoinb/logging';
import { claimFarmIdentity, FarmStore, newFarmIdentity, type BuildJobData } from '@aoinb/farm-protocol';
import { startRedis, writeTestConfig, type RedisHandle } from '@aoinb/testkit';
import { startWorkerAgent, type WorkerAgent } from './agent.ts';
import type { Executor } from './executor.ts';
import { jobNeedsNetwork, whyNotHere } from './network-placement.ts';
import { fakeExecutor } from './testing/fake-executor.ts';
import { seamFixture, type SeamFixture } from './testing/seam-fixture.ts';
import { startStandinCoordinator, type StandinCoordinator } from './testing/standin-coordinator.ts';

/**
 * Placement of a job that asks for a build network: only a worker with
 * `[worker] allow_network_builds` runs it; another hands it back unstarted
 * (no attempt, no bundle fetched) and goes on with its other jobs.
 */
describe('a job that asks for a build network', () => {
  let server: RedisHandle;
  let redis: Redis;
  let coordinator: StandinCoordinator;
  let fixture: SeamFixture;
  let dir: string;
  const agents: WorkerAgent[] = [];
  const requests = new Map<string, BuildRequest[]>();

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    await claimFarmIdentity(redis, newFarmIdentity());
    coordinator = await startStandinCoordinator();
    dir = await mkdtemp(path.join(tmpdir(), 'aoinb-net-placement-'));
    fixture = seamFixture({ store: new FarmStore(redis), redisPort: server.port, coordinator, dir });
  });
  afterAll(async () => {
    for (const a of agents) await a.stop('requeue');
    await fixture?.close();
    await coordinator?.close();
    await redis?.quit();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** An agent on the fake executor that records every request it is handed. */
  async function startAgent(id: string, allowNetwork: boolean): Promise<WorkerAgent> {
    const configDir = path.join(dir, 'conf', id);
    await mkdir(path.join(configDir, 'secrets'), { recursive: true });
    await writeFile(path.join(configDir, 'secrets/worker.token'), 'seam-worker-token\n');
    await writeTestConfig({
      dir: configDir,
      workDir: path.join(dir, 'work', id),
      arch: 'amd64',
      sourceLists: { stable: 'deb http://127.0.0.1:9/debian bookworm main' },
      extraToml: [
        '[redis]',
        `url = "${server.url}"`,
        '[worker]',
        `id = "${id}"`,
        'token_file = "secrets/worker.token"',
        'heartbeat_seconds = 1',
        `allow_network_builds = ${allowNetwork}`,
      ].join('\n'),
    });
    const fake = fakeExecutor({ durationMs: 20, sampleIntervalMs: 0 });
    const seen: BuildRequest[] = [];
    requests.set(id, seen);
    const executor: Executor = { ...fake, run: (request, pkg) => (seen.push(request), fake.run(request, pkg)) };
    const agent = await startWorkerAgent({
      config: await loadConfig(configDir),
      logger: silentLogger(),
      executor,
      coordinatorUrl: coordinator.url,
    });
    agents.push(agent);
    return agent;
  }

  const results = (taskId: string) =>
    coordinator.seen('PUT', new RegExp(`^/task/${taskId}/result/`)).map((r) => JSON.parse(r.body.toString()));

  it('is handed back by a worker that does not allow network builds, and built by one that does', async () => {
    const offline = await startAgent('offline-only', false);
    const online = await fixture.queued({ name: 'wants-network', patch: { network: true } });
    const plain = await fixture.queued({ name: 'plain-after-it' });
    // The plain job behind it is built; the network job is never started here.
    await waitFor(async () => results(plain.data.taskId).length === 1, 'the plain build');
    expect(results(plain.data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'offline-only' });
    await waitFor(async () => (await online.job!.getState()) === 'delayed', 'the network job to be handed back');
    expect(await fixture.store.getBuild(online.data.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    expect(coordinator.seen('GET', new RegExp(`^/task/${online.data.taskId}/`))).toEqual([]);
    expect(requests.get('offline-only')!.map((r) => r.network)).toEqual([false]);

    // The offline host leaves first: with both competing for the delayed job, BullMQ may hand it to the
    // offline one again and again (a job handed back goes to the back of its queue; docs/security.md).
    await offline.stop('requeue');
    await startAgent('online-ok', true);
    await waitFor(async () => results(online.data.taskId).length === 1, 'the network build');
    expect(results(online.data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'online-ok', attempt: 1 });
    expect(requests.get('online-ok')!.map((r) => r.network)).toEqual([true]);
  }, 60_000);

  it('counts a sequence as asking when any of its steps does', () => {
    const base = { taskId: '1', arch: 'amd64', run: 1, taskArchs: ['amd64'], branch: 'stable' } as BuildJobData;
    const step = { ...base, after: [] };
    expect(jobNeedsNetwork(base)).toBe(false);
    expect(jobNeedsNetwork({ ...base, sequence: [step, { ...step, network: true }] })).toBe(true);
    expect(whyNotHere({ ...base, network: true }, true)).toBeUndefined();
    expect(whyNotHere({ ...base, network: true }, false)).toMatch(/\[worker\] allow_network_builds/);
    expect(whyNotHere(base, false)).toBeUndefined();
  });
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
