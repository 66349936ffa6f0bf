import path from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FarmHarness,
  farmDeadlineMs,
  farmTokens,
  linesOf,
  member,
  packTestBundle,
  postGroup,
  readSse,
  uploadTasks,
  waitForGroup,
  type TestBundle,
} from '@aoinb/farm-harness';
import { farmNames, farmNode } from '@aoinb/farm-protocol';

const prefix = '{aoinb-cluster}';
const keys = farmNames(prefix);
const dayMs = 24 * 3600 * 1000;

/**
 * The farm on a real Redis Cluster: three masters (`redis-server` in cluster
 * mode, slots spread by `redis-cli --cluster create`), the coordinator and a
 * worker as processes with `[redis] cluster` and ioredis Cluster clients, the
 * fake executor. Builds, a group (a BullMQ flow), live logs over SSE, DELETE
 * and the pruner all work, and every key sits in the one slot of the prefix's
 * hash tag (multi-key Lua scripts and flows would fail with CROSSSLOT otherwise).
 */
describe('the farm on a 3-master Redis Cluster', () => {
  let farm: FarmHarness;
  let redis: Cluster;
  const maintainer = { token: farmTokens.maintainer };
  const admin = { token: farmTokens.admin };
  const pack = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm.root, 'bundles'), b);
  const quick = (name: string, defines: string[] = [], fake: Record<string, unknown> = {}): Promise<Buffer> =>
    pack({ name, defines: ['ALLOW_ARCH="amd64"', ...defines], fake: { durationMs: 100, ...fake } });

  beforeAll(async () => {
    farm = await FarmHarness.create({
      archs: ['amd64'],
      redisCluster: true,
      redisPrefix: prefix,
      logLevel: 'info',
      extraToml: ['[retention]', 'task_days = 30', 'log_days = 20'].join('\n'),
    });
    redis = new Cluster(farm.clusterNodes()!);
    await farm.startCoordinator();
    await farm.startWorker({ id: 'cluster-worker', archs: ['amd64'], slots: 2 });
    // The Cluster's node clients connect at their first command: here, as the file's, not in the test that asks.
    await redis.ping();
    await Promise.all(redis.nodes('master').map((node) => node.ping()));
  });
  afterAll(async () => {
    redis?.disconnect();
    await farm?.stop();
  });

  it('builds a task and streams its live log over SSE', async () => {
    const total = 500;
    const id = await farm.submit(await quick('cl-single', [], { lines: total, linesPerSecond: 1000, durationMs: 600 }));
    const events = await readSse(`${farm.coordinatorUrl}/task/${id}/log?arch=amd64`, { token: farmTokens.maintainer });
    expect(events[events.length - 1]).toMatchObject({ event: 'end' });
    expect(JSON.parse(events[events.length - 1]!.data)).toMatchObject({ state: 'succeeded' });
    const fake = linesOf(events).filter((l) => l.startsWith('fake build line '));
    expect(fake).toEqual(Array.from({ length: total }, (_, i) => `fake build line ${i}`));
    const done = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(done.jobs[0]).toMatchObject({ state: 'succeeded', run: 1, attempt: 1, builder: 'cluster-worker' });
    expect(done.jobs[0]!.artifacts.map((a) => a.name)).toEqual(['cl-single_1.0-0_amd64.deb']);
  });

  it('runs a group as a BullMQ flow across the cluster client', async () => {
    const tasks = await uploadTasks(farm, [
      await quick('cl-lib', [], { durationMs: 500 }),
      await quick('cl-app', ['BUILDDEP="cl-lib"']),
    ]);
    const created = await postGroup(farm, { branch: 'stable', tasks });
    expect(created.status, created.text).toBe(201);
    const id = (created.body as { id: string }).id;
    const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial']);
    expect(done.state).toBe('succeeded');
    // The dependency held: the app started after the library finished.
    expect(Date.parse(member(done, 'cl-app').started_at!)).toBeGreaterThanOrEqual(
      Date.parse(member(done, 'cl-lib').finished_at!),
    );
    expect(await redis.hget(keys.group(id), 'state')).toBe('succeeded');
    await farm.waitFor(
      async () => (await redis.zscore(`${prefix}:group-flow:completed`, `g${id}-r1`)) !== null,
      farmDeadlineMs,
      "the round's parent job to complete",
    );
  });

  it('deletes a finished task and prunes by age, with the guarded scripts on the cluster', async () => {
    const gone = await farm.submit(await quick('cl-delete'));
    const old = await farm.submit(await quick('cl-old'));
    for (const id of [gone, old]) await farm.waitForState(id, ['succeeded']);
    const deleted = await farm.api('DELETE', `/task/${gone}`, undefined, admin);
    expect(deleted.status, deleted.text).toBe(200);
    expect((await farm.api('GET', `/task/${gone}/status`)).status).toBe(404);
    expect(await redis.exists(keys.task(gone), keys.build(gone, 'amd64'))).toBe(0);

    // The pruner runs at a coordinator's start: make one task 40 days old and restart. Its walk goes oldest
    // first and stops at the first task too young to be due: the earlier ones are made old too (not finished).
    await farm.kill('coordinator', 'SIGTERM');
    const longAgo = new Date(Date.now() - 40 * dayMs).toISOString();
    for (const id of await redis.zrange(keys.tasks, 0, -1))
      if (Number(id) < Number(old)) await redis.hset(keys.task(id), 'createdAt', longAgo);
    await redis.hset(keys.task(old), 'finishedAt', longAgo, 'createdAt', longAgo);
    await farm.startCoordinator();
    await farm.waitFor(async () => (await redis.exists(keys.task(old))) === 0, 30_000, 'the pruner pass');
    expect((await farm.api('GET', `/task/${old}/status`)).status).toBe(404);
    expect(await redis.zscore(keys.tasks, old)).toBeNull();
    // The farm keeps working after the restart.
    const after = await farm.submit(await quick('cl-after'));
    expect((await farm.waitForState(after, ['succeeded', 'failed'])).state).toBe('succeeded');
    expect((await farm.api('GET', '/task?limit=50', undefined, maintainer)).status).toBe(200);
  });

  it('keeps every key in the one slot of the prefix, on one master', async () => {
    const home = await farmNode(redis, prefix);
    const masters = redis.nodes('master');
    expect(masters).toHaveLength(3);
    const homeKeys = await home.keys('*');
    expect(homeKeys.length).toBeGreaterThan(20);
    expect(homeKeys.filter((k) => !k.startsWith(`${prefix}:`))).toEqual([]);
    expect(homeKeys).toEqual(expect.arrayContaining([keys.taskSeq, keys.groupSeq, keys.farmIdentity]));
    for (const node of masters.filter((n) => n !== home)) expect(await node.dbsize()).toBe(0);
  });
});
