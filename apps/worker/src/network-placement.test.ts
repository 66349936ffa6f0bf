import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import type { BuildRequest } from '@aoinb/buildroot';
import { loadConfig } from '@aoinb/config';
import { silentLogger } from '@aoinb/logging';
import {
  claimFarmIdentity,
  FarmStore,
  newFarmIdentity,
  promoteToHead,
  writeHeartbeat,
  type BuildJobData,
} from '@aoinb/farm-protocol';
import { startRedis, writeTestConfig, type RedisHandle } from '@aoinb/testkit';
import { startWorkerAgent, type WorkerAgent } from './agent.ts';
import { jobNeedsNetwork } from './claim-check.ts';
import type { Executor } from './executor.ts';
import { fakeExecutor } from '../test-support/fake-executor.ts';
import { seamFixture, type SeamFixture } from '../test-support/seam-fixture.ts';
import { startStandinCoordinator, type StandinCoordinator } from '../test-support/standin-coordinator.ts';

/**
 * Placement of a job that asks for a build network, with real agents on a real Redis: a build
 * network is one more need of the claim check (docs/placement.md). A host without
 * `[worker] allow_network_builds` never runs such a job: it hands it back unstarted (no attempt,
 * no bundle fetched) and goes on with its other jobs. With an able host free, the job goes back
 * to the head of its queue and the host that cannot take it steps aside until the able one took
 * it, so it is not handed to the same host again and again (the starvation defect of issue 9).
 * No coordinator runs here: the test brings a parked job back as its placement loop does
 * (promoteToHead), and the offline host's parking delay is short.
 */
describe('a job that asks for a build network', () => {
  let server: RedisHandle;
  let redis: Redis;
  let coordinator: StandinCoordinator;
  let fixture: SeamFixture;
  const tmp = useTempDir('aoinb-net-placement-');
  const agents: WorkerAgent[] = [];
  const requests = new Map<string, BuildRequest[]>();
  let parked: Job<BuildJobData>;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    await claimFarmIdentity(redis, newFarmIdentity());
    coordinator = await startStandinCoordinator();
    fixture = seamFixture({ store: new FarmStore(redis), redisPort: server.port, coordinator, dir: tmp.dir });
  });
  // The agents a test starts are its own (the per-test leak check).
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('requeue');
    await fixture?.close();
  });
  afterAll(async () => {
    await fixture?.close();
    await coordinator?.close();
    await redis?.quit();
    await server?.stop();
  });

  /** An agent on the fake executor that records every request it is handed. */
  async function startAgent(id: string, allowNetwork: boolean): Promise<WorkerAgent> {
    const configDir = path.join(tmp.dir, 'conf', id);
    await mkdir(path.join(configDir, 'secrets'), { recursive: true });
    await writeFile(path.join(configDir, 'secrets/worker.token'), 'seam-worker-token\n');
    await writeTestConfig({
      dir: configDir,
      workDir: path.join(tmp.dir, 'work', id),
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
    const fake = fakeExecutor({ durationMs: 50, sampleIntervalMs: 0 });
    const seen: BuildRequest[] = [];
    requests.set(id, seen);
    const executor: Executor = { ...fake, run: (request, pkg) => (seen.push(request), fake.run(request, pkg)) };
    const agent = await startWorkerAgent({
      config: await loadConfig(configDir),
      logger: silentLogger(),
      executor,
      coordinatorUrl: coordinator.url,
      // No coordinator brings parked jobs back here; a step aside ends only when another host took the job.
      placementRetryMs: 300,
      stepAsideMs: 120_000,
    });
    agents.push(agent);
    return agent;
  }

  const networkJob = (name: string) => fixture.queued({ name, patch: { network: true }, needs: { network: true } });
  const results = (taskId: string) =>
    coordinator.seen('PUT', new RegExp(`^/task/${taskId}/result/`)).map((r) => JSON.parse(r.body.toString()));
  const built = (taskId: string) => waitFor(async () => results(taskId).length === 1, `the build of task ${taskId}`);
  /** The queue's events in the order Redis wrote them, as (event, prev, jobId). */
  async function queueEvents(): Promise<{ event?: string; prev?: string; jobId?: string }[]> {
    const events = await redis.xrange(fixture.queue('amd64').keys.events!, '-', '+');
    return events.map(([, f]) => {
      const field = (k: string) => (f.includes(k) ? f[f.indexOf(k) + 1] : undefined);
      return { event: field('event'), prev: field('prev'), jobId: field('jobId') };
    });
  }
  /** Ids of the jobs this queue's events say were handed back from active to waiting. */
  async function handedBackToHead(): Promise<string[]> {
    return (await queueEvents()).flatMap((e) => (e.event === 'waiting' && e.prev === 'active' ? [e.jobId ?? ''] : []));
  }

  // One scenario in three steps, each on what the one before left (the agents, the parked job): one test, so
  // that what it starts is its own and stopped after it.
  it('parks a network job while no able host is online, then builds it on the able host at its head', async () => {
    // A host that allows no network parks it unstarted while no able host is online.
    await startAgent('offline-only', false);
    const online = await networkJob('wants-network');
    parked = online.job!;
    const plain = await fixture.queued({ name: 'plain-after-it' });
    // The plain job behind it is built; the network job is never started here.
    await built(plain.data.taskId);
    expect(results(plain.data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'offline-only' });
    await waitFor(async () => (await parked.getState()) === 'delayed', 'the network job to be parked');
    expect(await fixture.store.getBuild(online.data.taskId, 'amd64')).toMatchObject({ state: 'queued', attempt: 0 });
    expect(coordinator.seen('GET', new RegExp(`^/task/${online.data.taskId}/`))).toEqual([]);
    expect(requests.get('offline-only')!.map((r) => r.network)).toEqual([false]);
    // It goes to the head of its queue for an able free host; the host that cannot take it steps aside.
    // The able host's first heartbeat is in (as an agent beats before its queue workers start), its workers not yet.
    await writeHeartbeat(redis, ableFacts('online-ok'), 30);
    // Brought back as the coordinator does (unless the offline host, seeing the able one, put it at the head itself).
    await waitFor(async () => {
      await promoteToHead(parked);
      return (await handedBackToHead()).includes(parked.id!);
    }, 'the offline host to hand it back to the head of the queue');
    expect(await parked.getState()).toBe('waiting');
    // Stepping aside, the offline host holds its one slot: a job queued now waits behind the network job.
    const behind = await fixture.queued({ name: 'plain-behind' });
    await startAgent('online-ok', true);
    await built(parked.data.taskId);
    expect(results(parked.data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'online-ok', attempt: 1 });
    // The head of the queue was the network job: it started before the job behind it, which the free offline host
    // would otherwise have taken at once.
    expect(requests.get('online-ok')![0]).toMatchObject({ network: true });
    await built(behind.data.taskId);
    // The order of claims is the queue's own: the order of its `active` events. (The order of bundle fetches is
    // not: once the able host took the network job, the offline host's step aside ends and it may fetch the job
    // behind before the able host fetched its own.)
    const claims = (await queueEvents()).filter((e) => e.event === 'active').map((e) => e.jobId);
    expect(claims.lastIndexOf(parked.id)).toBeLessThan(claims.indexOf(behind.job!.id));
    expect(requests.get('offline-only')!.every((r) => !r.network)).toBe(true);
    // With both hosts online and idle, network jobs are built by the able host at their first attempt.
    const jobs = [
      await networkJob('net-a'),
      await fixture.queued({ name: 'plain-a' }),
      await networkJob('net-b'),
      await networkJob('net-c'),
      await fixture.queued({ name: 'plain-b' }),
    ];
    for (const j of jobs) await built(j.data.taskId);
    for (const j of jobs.filter((x) => x.data.network)) {
      expect(results(j.data.taskId)[0]).toMatchObject({ status: 'succeeded', builder: 'online-ok', attempt: 1 });
    }
    expect(requests.get('offline-only')!.every((r) => !r.network)).toBe(true);
    expect(requests.get('online-ok')!.filter((r) => r.network)).toHaveLength(4);
  });

  it('counts a sequence as asking when any of its steps does', () => {
    const base = { taskId: '1', arch: 'amd64', run: 1, taskArchs: ['amd64'], branch: 'stable' } as BuildJobData;
    const step = { ...base, after: [] };
    expect(jobNeedsNetwork(base)).toBe(false);
    expect(jobNeedsNetwork({ ...base, network: true })).toBe(true);
    expect(jobNeedsNetwork({ ...base, sequence: [step, { ...step, network: true }] })).toBe(true);
  });
});

/** The heartbeat of an idle amd64 host that allows network builds. */
function ableFacts(id: string) {
  const now = new Date().toISOString();
  return {
    id,
    hostname: hostname(),
    archs: ['amd64'],
    slots: 1,
    cores: 4,
    memoryTotalBytes: 8 * 1024 ** 3,
    memoryFreeBytes: 4 * 1024 ** 3,
    diskFreeBytes: 100e9,
    allowNetworkBuilds: true,
    load: [0, 0, 0] as [number, number, number],
    currentTasks: [],
    mode: 'active' as const,
    startedAt: now,
    lastHeartbeat: now,
    version: 'test',
  };
}

/** Polls `check` until it holds; the deadline only bounds a test that would otherwise hang. */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
