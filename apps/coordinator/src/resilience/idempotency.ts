import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import { farmKeys, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';

export const idempotencyHeader = 'idempotency-key';
/** How long an answer is kept for replays. */
export const idempotencyTtlSeconds = 24 * 3600;
/** A request that never answered (its coordinator died) frees its key after this. */
const pendingTtlSeconds = 120;

interface StoredAnswer {
  fingerprint: string;
  state: 'pending' | 'done';
  status?: number;
  contentType?: string;
  body?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { redisKey: string; fingerprint: string };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Per caller (token name), so two maintainers' keys never meet. */
function redisKeyOf(keys: FarmKeys, request: FastifyRequest, key: string): string {
  return keys.idempotency(sha256(`${request.principal?.name ?? ''}\0${key}`));
}

function fingerprintOf(request: FastifyRequest): string {
  const body = request.body;
  if (body !== undefined && body !== null && typeof (body as { pipe?: unknown }).pipe === 'function')
    throw new AoinbError('USAGE', `${idempotencyHeader} is taken on POST requests with a JSON or empty body`);
  return sha256(`${request.method}\0${request.url}\0${JSON.stringify(body ?? null)}`);
}

/**
 * `Idempotency-Key` on creating calls (every POST: task, group, retry, cancel):
 * the first request with a key runs and its answer is kept for 24 h; the same
 * key with the same request gets that answer again (`Idempotent-Replayed: true`),
 * with another request 422, and while the first still runs 409. A 5xx answer is
 * not kept, so the retry runs again. Keys are per token name.
 */
export function registerIdempotency(app: FastifyInstance, redis: RedisClient, keys: FarmKeys = farmKeys): void {
  app.decorateRequest('idempotency', undefined);
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers[idempotencyHeader];
    if (request.method !== 'POST' || key === undefined || request.routeOptions.url === undefined) return;
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key))
      throw new AoinbError('USAGE', `${idempotencyHeader} must be 1 to 255 printable ASCII characters`);
    const fingerprint = fingerprintOf(request);
    const redisKey = redisKeyOf(keys, request, key);
    const pending: StoredAnswer = { fingerprint, state: 'pending' };
    if ((await redis.set(redisKey, JSON.stringify(pending), 'EX', pendingTtlSeconds, 'NX')) === 'OK') {
      request.idempotency = { redisKey, fingerprint };
      return;
    }
    const raw = await redis.get(redisKey);
    const stored = raw ? (JSON.parse(raw) as StoredAnswer) : undefined;
    if (!stored) throw new AoinbError('IDEMPOTENCY_IN_PROGRESS', 'that Idempotency-Key just expired; send again');
    if (stored.fingerprint !== fingerprint)
      throw new AoinbError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key ${JSON.stringify(key)} was used for another request (other route or body); use a new key`,
      );
    if (stored.state === 'pending')
      throw new AoinbError(
        'IDEMPOTENCY_IN_PROGRESS',
        `a request with Idempotency-Key ${JSON.stringify(key)} is still running`,
      );
    return reply
      .status(stored.status ?? 200)
      .header('idempotent-replayed', 'true')
      .type(stored.contentType ?? 'application/json; charset=utf-8')
      .send(stored.body ?? '');
  });
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const held = request.idempotency;
    if (!held) return payload;
    request.idempotency = undefined;
    const cacheable = reply.statusCode < 500 && (typeof payload === 'string' || Buffer.isBuffer(payload));
    try {
      if (!cacheable) await redis.del(held.redisKey);
      else {
        const answer: StoredAnswer = {
          fingerprint: held.fingerprint,
          state: 'done',
          status: reply.statusCode,
          contentType: String(reply.getHeader('content-type') ?? ''),
          body: String(payload),
        };
        await redis.set(held.redisKey, JSON.stringify(answer), 'EX', idempotencyTtlSeconds);
      }
    } catch (error) {
      // The answer still goes out; only its replay is lost (the pending record expires by itself).
      request.log.warn({ err: (error as Error).message }, 'idempotent answer not stored');
    }
    return payload;
  });
}
