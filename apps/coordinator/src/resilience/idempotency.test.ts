import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@aoinb/testkit';
import { registerErrorHandling } from '../http/errors.ts';
import { registerIdempotency } from './idempotency.ts';

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
