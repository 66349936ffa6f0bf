import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AoinbError } from '@aoinb/errors';
import { farmNames, FarmStore } from '@aoinb/farm-protocol';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { registerErrorHandling } from '../http/errors.ts';
import { answerWithCreate, registerIdempotency } from './idempotency.ts';

/** The Idempotency-Key hooks on a small app against a real redis-server, by inject(). */
describe('Idempotency-Key', () => {
  let server: RedisHandle;
  let redis: Redis;
  let app: FastifyInstance;
  let calls = 0;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    app = Fastify();
    registerErrorHandling(app);
    registerIdempotency(app, redis);
    app.post('/thing', async (request, reply) => {
      calls++;
      const body = (request.body ?? {}) as { slow?: boolean; crash?: boolean };
      if (body.slow) await new Promise<void>((resolve) => (release = resolve));
      if (body.crash) throw new Error('boom');
      return reply.status(201).send({ id: calls, body });
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    redis?.disconnect();
    await server?.stop();
  });

  const post = (key: string | undefined, body: unknown) =>
    app.inject({
      method: 'POST',
      url: '/thing',
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      payload: JSON.stringify(body),
    });

  it('answers a repeat with the first answer and runs the handler once', async () => {
    const before = calls;
    const first = await post('k-1', { name: 'a' });
    const again = await post('k-1', { name: 'a' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(before + 1);
    expect(await redis.ttl((await redis.keys('*idem*'))[0]!)).toBeGreaterThan(3600);
  });

  it('refuses the same key with another body (422) and runs requests without a key every time', async () => {
    await post('k-2', { name: 'a' });
    const other = await post('k-2', { name: 'b' });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    const before = calls;
    await post(undefined, { name: 'a' });
    await post(undefined, { name: 'a' });
    expect(calls).toBe(before + 2);
  });

  it('answers 409 while the first request with the key still runs', async () => {
    const slow = post('k-3', { slow: true });
    await expect.poll(() => release !== undefined).toBe(true);
    const meanwhile = await post('k-3', { slow: true });
    expect(meanwhile.statusCode).toBe(409);
    expect(meanwhile.json()).toMatchObject({ error: { code: 'IDEMPOTENCY_IN_PROGRESS' } });
    release!();
    expect((await slow).statusCode).toBe(201);
    expect((await post('k-3', { slow: true })).headers['idempotent-replayed']).toBe('true');
  });

  it('keeps no 5xx answer, so the retry runs again; refuses a malformed key', async () => {
    const before = calls;
    expect((await post('k-4', { crash: true })).statusCode).toBe(500);
    expect((await post('k-4', { crash: true })).statusCode).toBe(500);
    expect(calls).toBe(before + 2);
    const bad = await post('x'.repeat(300), {});
    expect(bad.statusCode).toBe(400);
  });
});

/**
 * Two coordinator instances (two apps, one redis-server) creating tasks through
 * the real FarmStore script: the create and the answer to its key are one step.
 */
describe('Idempotency-Key across two coordinator instances', () => {
  let server: RedisHandle;
  let redis: Redis;
  let store: FarmStore;
  let apps: FastifyInstance[] = [];
  let hang: Promise<void> = Promise.resolve();

  async function instance(pendingTtlMs?: number): Promise<FastifyInstance> {
    const app = Fastify();
    registerErrorHandling(app);
    registerIdempotency(app, redis, farmNames('{idem-test}'), { pendingTtlMs });
    app.post('/task', async (request, reply) => {
      const id = await store.nextTaskId();
      await hang;
      const now = new Date().toISOString();
      const task = {
        id,
        state: 'created' as const,
        createdAt: now,
        updatedAt: now,
        createdBy: 'm',
        archs: [],
        timeoutMs: 0,
      };
      if (!(await store.createTask(task, answerWithCreate(request.idempotency, 201, { id }))))
        throw new AoinbError('IDEMPOTENCY_IN_PROGRESS', 'taken over');
      return reply.status(201).send({ id });
    });
    await app.ready();
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new FarmStore(redis, farmNames('{idem-test}'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    apps = [];
    redis?.disconnect();
    await server?.stop();
  });

  const post = (app: FastifyInstance, key: string) =>
    app.inject({ method: 'POST', url: '/task', headers: { 'idempotency-key': key } });
  const taskCount = () => redis.zcard(farmNames('{idem-test}').tasks);

  it('creates one task for concurrent identical requests sent to both instances', async () => {
    const [one, two] = [await instance(), await instance()];
    const before = await taskCount();
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => post(i % 2 ? one : two, 'same-key')));
    expect(await taskCount()).toBe(before + 1);
    const created = answers.filter((a) => a.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.json().id)).size).toBe(1);
    expect(answers.every((a) => a.statusCode === 201 || a.statusCode === 409)).toBe(true);
    const replay = await post(two, 'same-key');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(created[0]!.json());
  });

  it('renews the reservation of a long request, so no second request runs meanwhile', async () => {
    const [one, two] = [await instance(150), await instance(150)];
    const before = await taskCount();
    let release!: () => void;
    hang = new Promise<void>((resolve) => (release = resolve));
    const slow = post(one, 'slow-key');
    await new Promise((r) => setTimeout(r, 600));
    expect((await post(two, 'slow-key')).statusCode).toBe(409);
    release();
    hang = Promise.resolve();
    expect((await slow).statusCode).toBe(201);
    expect(await taskCount()).toBe(before + 1);
  });

  it('a retry gets the task recorded before its coordinator died; a key taken over creates nothing', async () => {
    const app = await instance();
    // The create of a coordinator that died before it answered: the reservation, then the create's own record.
    const key = `{idem-test}:idem:${createHash('sha256').update('\0crashed-key').digest('hex')}`;
    const fingerprint = createHash('sha256').update('POST\0/task\0null').digest('hex');
    await redis.set(key, JSON.stringify({ fingerprint, state: 'pending', owner: 'dead' }), 'PX', 30_000);
    const now = new Date().toISOString();
    const id = await store.nextTaskId();
    const task = {
      id,
      state: 'created' as const,
      createdAt: now,
      updatedAt: now,
      createdBy: 'm',
      archs: [],
      timeoutMs: 0,
    };
    const hold = { redisKey: key, fingerprint, owner: 'dead' };
    expect(await store.createTask(task, answerWithCreate(hold, 201, { id }))).toBe(true);
    const before = await taskCount();
    const retry = await post(app, 'crashed-key');
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toEqual({ id });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await taskCount()).toBe(before);
    // A create whose reservation another request holds now writes nothing.
    const other = { ...task, id: await store.nextTaskId() };
    expect(await store.createTask(other, answerWithCreate({ ...hold, owner: 'late' }, 201, { id: other.id }))).toBe(
      false,
    );
    expect(await redis.exists(farmNames('{idem-test}').task(other.id))).toBe(0);
  });
});
