import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@aoinb/logging';
import {
  farmNames,
  FarmStore,
  GroupStore,
  RetentionStore,
  type FarmKeys,
  type GroupRecord,
  type NewGroup,
} from '@aoinb/farm-protocol';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { registerErrorHandling } from '../http/errors.ts';
import { FarmIdentityGuard } from './farm-identity-guard.ts';
import { registerIdempotency } from './idempotency.ts';

const now = new Date().toISOString();
const bundle = { sha256: 'a'.repeat(64), size: 1, packageName: 'p', version: '1.0-0', noarch: false, targets: [] };
const task = { createdBy: 'alice', archs: [], timeoutMs: 0, bundle: { ...bundle, uploadedAt: now } };

function newGroup(id: string, taskId: string): NewGroup {
  const record: GroupRecord = {
    ...{ id, state: 'queued', branch: 'stable', mode: 'dag', publish: 'each', taskIds: [taskId] },
    ...{ archs: ['amd64'], round: 1, createdBy: 'alice', createdAt: now, updatedAt: now, cancelRequested: false },
  };
  const members = { [`${taskId}/amd64`]: { phase: 'waiting' as const, round: 1, run: 1, at: now } };
  return { record, plan: [], members, tasks: [{ id: taskId, archs: ['amd64'] }], timeoutMs: 60_000 };
}

interface Farm {
  keys: FarmKeys;
  guard: FarmIdentityGuard;
  tasks: FarmStore;
  groups: GroupStore;
  app: FastifyInstance;
  calls: number;
}

/**
 * Two farms on one Redis, apart only by `[redis] prefix`: their groups, group
 * ids, idempotency records and retention never meet. And group ids, like task
 * ids, come from an INCR that checks the farm identity in the same script.
 */
describe('two farms with different prefixes on one Redis', () => {
  let server: RedisHandle;
  let redis: Redis;
  let storage: string;
  const logger = createLogger({ level: 'silent' });
  const farms: Farm[] = [];

  async function openFarm(prefix: string): Promise<Farm> {
    const keys = farmNames(prefix);
    await mkdir(path.join(storage, prefix));
    const guard = await FarmIdentityGuard.open(redis, path.join(storage, prefix), logger, keys);
    const app = Fastify();
    const farm: Farm = {
      keys,
      guard,
      tasks: new FarmStore(redis, keys, guard.allocateTaskId),
      groups: new GroupStore(redis, keys, guard.allocateGroupId),
      app,
      calls: 0,
    };
    registerErrorHandling(app);
    registerIdempotency(app, redis, keys);
    app.post('/group', async (_request, reply) => reply.status(201).send({ id: ++farm.calls }));
    await app.ready();
    return farm;
  }

  const post = (farm: Farm, key: string) =>
    farm.app.inject({
      method: 'POST',
      url: '/group',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      payload: '{}',
    });

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    for (const farm of farms) await farm.app.close();
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    for (const farm of farms.splice(0)) await farm.app.close();
    await redis.flushall();
    storage = await mkdtemp(path.join(tmpdir(), 'aoinb-prefix-'));
    farms.push(await openFarm('{farm-a}'), await openFarm('{farm-b}'));
    return () => rm(storage, { recursive: true, force: true });
  });

  it("keeps each farm's groups, group ids and idempotency records under its own prefix", async () => {
    const [a, b] = farms as [Farm, Farm];
    for (const farm of farms) {
      const taskId = await farm.tasks.nextTaskId();
      await farm.tasks.createTask({ ...{ id: taskId, state: 'created', createdAt: now, updatedAt: now }, ...task });
      const groupId = await farm.groups.nextGroupId();
      expect(groupId).toBe('1');
      expect(await farm.groups.createGroup(newGroup(groupId, taskId))).toEqual({ ok: true });
    }
    await a.groups.transitionGroup('1', [], 'succeeded', false, { finishedAt: now });
    expect(await a.groups.getGroup('1')).toMatchObject({ state: 'succeeded' });
    expect(await b.groups.getGroup('1')).toMatchObject({ state: 'queued' });
    expect(await a.groups.activeGroupIds()).toEqual([]);
    expect(await b.groups.activeGroupIds()).toEqual(['1']);
    expect(await a.groups.nextGroupId()).toBe('2');
    expect(await b.groups.nextGroupId()).toBe('2');

    // The same caller and key on both farms: two requests, each farm answers its own.
    expect((await post(a, 'same-key')).json()).toEqual({ id: 1 });
    expect((await post(b, 'same-key')).headers['idempotent-replayed']).toBeUndefined();
    expect((await post(a, 'same-key')).headers['idempotent-replayed']).toBe('true');
    expect([a.calls, b.calls]).toEqual([1, 1]);

    // Retention of one farm deletes its group only.
    const deleted = await new RetentionStore(redis, a.keys).deleteGroup('1', ['1'], ['succeeded']);
    expect(deleted.result).toBe('deleted');
    expect(await a.groups.getGroup('1')).toBeUndefined();
    expect(await b.groups.getGroup('1')).toMatchObject({ id: '1', state: 'queued' });

    const keys = await redis.keys('*');
    expect(keys.filter((k) => !k.startsWith('{farm-a}:') && !k.startsWith('{farm-b}:'))).toEqual([]);
    expect(keys.filter((k) => k.includes(':idem:'))).toHaveLength(2);
    expect(keys).toContain('{farm-b}:group:1:members');
  });

  it('hands out no group id while Redis lacks the farm identity, and the ids never go back', async () => {
    const [a, b] = farms as [Farm, Farm];
    for (let i = 1; i <= 3; i++) expect(await a.groups.nextGroupId()).toBe(String(i));
    await a.guard.close();
    // Farm a's Redis data is lost (another farm's keys stay).
    for (const key of await redis.keys('{farm-a}:*')) await redis.del(key);
    await expect(a.groups.nextGroupId()).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    expect(await redis.exists(a.keys.groupSeq)).toBe(0);
    expect(a.guard.state).toMatchObject({ ok: false, reason: expect.stringContaining('no farm identity') });
    // Another farm's identity under this prefix is no better.
    await redis.set(a.keys.farmIdentity, JSON.stringify({ id: 'someone-else', createdAt: '' }));
    await expect(a.groups.nextGroupId()).rejects.toMatchObject({ code: 'FARM_IDENTITY_LOST' });
    expect(await redis.exists(a.keys.groupSeq)).toBe(0);
    expect(await b.groups.nextGroupId()).toBe('1');
    await redis.del(a.keys.farmIdentity);
    await a.guard.adopt();
    expect(await a.groups.nextGroupId()).toBe('4');
  });
});
