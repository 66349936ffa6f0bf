import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import { farmKeys, type FarmKeys, type IdempotentAnswer, type RedisClient } from '@aoinb/farm-protocol';

export const idempotencyHeader = 'idempotency-key';
/** How long an answer is kept for replays. */
export const idempotencyTtlSeconds = 24 * 3600;
/**
 * A reservation lasts this long and is renewed at a third of it while its
 * request runs, so it never lapses under a live request; a coordinator that
 * died frees the key after it.
 */
const defaultPendingTtlMs = 30_000;

interface StoredAnswer {
  fingerprint: string;
  state: 'pending' | 'done';
  /** The request (a random id) that reserved the key. */
  owner?: string;
  status?: number;
  contentType?: string;
  body?: string;
}

/** The key a request reserved: its create records the answer with itself (answerWithCreate). */
export interface IdempotencyHold {
  redisKey: string;
  fingerprint: string;
  owner: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: IdempotencyHold;
  }
}

/**
 * Lua: ARGV 1 = owner; ARGV 2 = 'renew' (PEXPIRE ARGV 3 ms), 'answer' (SET ARGV 3
 * with EX ARGV 4 s) or 'drop' (DEL, only while still pending: a recorded create
 * stays). Acts only on a record the owner still holds. Returns 1 when it did.
 */
const holdScript = `
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local ok, record = pcall(cjson.decode, held)
if not ok or type(record) ~= 'table' or record.owner ~= ARGV[1] then return 0 end
if ARGV[2] == 'renew' then
  if record.state ~= 'pending' then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif ARGV[2] == 'answer' then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
elseif record.state == 'pending' then
  redis.call('DEL', KEYS[1])
end
return 1
`;

/**
 * What a creating route hands its store's create (FarmStore.createTask): the
 * answer it will send, recorded in the create's own script, so a create is
 * never without its answer, whatever dies after it.
 */
export function answerWithCreate(
  hold: IdempotencyHold | undefined,
  status: number,
  body: unknown,
): IdempotentAnswer | undefined {
  if (!hold) return undefined;
  const answer: StoredAnswer = {
    fingerprint: hold.fingerprint,
    state: 'done',
    owner: hold.owner,
    status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify(body),
  };
  return { key: hold.redisKey, owner: hold.owner, record: JSON.stringify(answer), ttlSeconds: idempotencyTtlSeconds };
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

/** Renews the reservation at a third of its lifetime until the request's connection closes. */
function keepReserved(redis: RedisClient, request: FastifyRequest, reply: FastifyReply, ttlMs: number): void {
  const { redisKey, owner } = request.idempotency as IdempotencyHold;
  const renew = setInterval(
    () =>
      void redis
        .eval(holdScript, 1, redisKey, owner, 'renew', String(ttlMs))
        .catch((error: Error) => request.log.warn({ err: error.message }, 'Idempotency-Key reservation not renewed')),
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  renew.unref();
  reply.raw.once('close', () => clearInterval(renew));
}

/** The key is taken: the kept answer again, or 422 for another request, 409 while the first runs. */
function replay(stored: StoredAnswer | undefined, key: string, fingerprint: string, reply: FastifyReply) {
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
}

/** preHandler: reserves the key (SET NX) for this request, or answers from what the key holds. */
async function reserveOrReplay(
  redis: RedisClient,
  keys: FarmKeys,
  ttlMs: number,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const key = request.headers[idempotencyHeader];
  if (request.method !== 'POST' || key === undefined || request.routeOptions.url === undefined) return;
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key))
    throw new AoinbError('USAGE', `${idempotencyHeader} must be 1 to 255 printable ASCII characters`);
  const fingerprint = fingerprintOf(request);
  const redisKey = redisKeyOf(keys, request, key);
  const owner = randomUUID();
  const pending: StoredAnswer = { fingerprint, state: 'pending', owner };
  if ((await redis.set(redisKey, JSON.stringify(pending), 'PX', ttlMs, 'NX')) === 'OK') {
    request.idempotency = { redisKey, fingerprint, owner };
    keepReserved(redis, request, reply, ttlMs);
    return;
  }
  const raw = await redis.get(redisKey);
  return replay(raw ? (JSON.parse(raw) as StoredAnswer) : undefined, key, fingerprint, reply);
}

/** onSend: keeps the answer under the key this request reserved (a 5xx or a stream frees the key instead). */
async function keepAnswer(redis: RedisClient, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const held = request.idempotency;
  if (!held) return payload;
  request.idempotency = undefined;
  const cacheable = reply.statusCode < 500 && (typeof payload === 'string' || Buffer.isBuffer(payload));
  try {
    if (!cacheable) await redis.eval(holdScript, 1, held.redisKey, held.owner, 'drop');
    else {
      const answer: StoredAnswer = {
        fingerprint: held.fingerprint,
        state: 'done',
        owner: held.owner,
        status: reply.statusCode,
        contentType: String(reply.getHeader('content-type') ?? ''),
        body: String(payload),
      };
      const args = [held.owner, 'answer', JSON.stringify(answer), String(idempotencyTtlSeconds)];
      const stored = await redis.eval(holdScript, 1, held.redisKey, ...args);
      if (stored !== 1) request.log.warn('Idempotency-Key reservation was lost before the answer; not stored');
    }
  } catch (error) {
    // The answer still goes out; only its replay is lost (the pending record expires by itself).
    request.log.warn({ err: (error as Error).message }, 'idempotent answer not stored');
  }
  return payload;
}

/**
 * `Idempotency-Key` on creating calls (every POST: task, group, retry, cancel):
 * the first request with a key runs and its answer is kept for 24 h; the same
 * key with the same request gets that answer again (`Idempotent-Replayed: true`),
 * with another request 422, and while the first still runs 409. A 5xx answer is
 * not kept, so the retry runs again. Keys are per token name.
 *
 * Across coordinators the key is reserved in Redis (SET NX) before the handler
 * runs and renewed while it runs. `POST /task` records its answer in the
 * create's own script (answerWithCreate), which creates nothing once the
 * reservation is not its own: a create and its answer are one step. The other
 * calls are changes that a second run refuses by state (a task already in a
 * group, a retry of a build already queued, a cancel of a cancelled one).
 */
export function registerIdempotency(
  app: FastifyInstance,
  redis: RedisClient,
  keys: FarmKeys = farmKeys,
  options: { pendingTtlMs?: number } = {},
): void {
  const pendingTtlMs = options.pendingTtlMs ?? defaultPendingTtlMs;
  app.decorateRequest('idempotency', undefined);
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) =>
    reserveOrReplay(redis, keys, pendingTtlMs, request, reply),
  );
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) =>
    keepAnswer(redis, request, reply, payload),
  );
}
