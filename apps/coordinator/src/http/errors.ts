import type { FastifyError, FastifyInstance } from 'fastify';
import { AoinbError, errnoOf, isAoinbError, type ErrorCode } from '@aoinb/errors';
import { isRedisUnavailable, redisRetryAfterSeconds } from '../resilience/redis-fail-fast.ts';

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status >= 500) return 'INTERNAL';
  return 'USAGE';
}

/**
 * What a client may see of a server-side failure: never a host path (work dir,
 * storage, temp files), which says where to aim. The full error is in the log.
 */
export function withoutHostPaths(message: string): string {
  return message.replace(/(?<![\w.:-])\/(?:[\w.@+-]+\/)*[\w.@+-]+/g, (p) => (p.split('/').length > 2 ? '<path>' : p));
}

/** Every error leaves as `{ "error": { "code", "message" } }` with the catalogue's status. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AoinbError, request, reply) => {
    if (isRedisUnavailable(error) || (isAoinbError(error) && error.code === 'UNAVAILABLE')) {
      // Redis is away (the client fails fast, redis-fail-fast.ts): say when to come back.
      request.log.warn({ err: error.message }, 'request refused: Redis unavailable');
      return reply
        .status(503)
        .header('retry-after', String(redisRetryAfterSeconds))
        .send({ error: { code: 'UNAVAILABLE', message: 'Redis is unreachable; retry later' } });
    }
    if (errnoOf(error) === 'ENOSPC' || errnoOf(error) === 'EDQUOT') {
      // Worth a retry once an operator made room (workers retry 5xx); the path stays in the log.
      request.log.error({ err: error }, 'request failed: storage full');
      return reply
        .status(507)
        .header('retry-after', '60')
        .send({ error: { code: 'STORAGE_FULL', message: "the coordinator's storage is full; retry later" } });
    }
    if (isAoinbError(error)) {
      if (error.httpStatus >= 500) request.log.error({ err: error }, 'request failed');
      if (error.httpStatus < 500) return reply.status(error.httpStatus).send(error.toJSON());
      return reply
        .status(error.httpStatus)
        .send({ error: { code: error.code, message: withoutHostPaths(error.message) } });
    }
    const status = error.validation ? 400 : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message =
      status >= 500
        ? `internal error (request ${request.id}; see the coordinator log)`
        : withoutHostPaths(error.message);
    return reply.status(status).send({ error: { code: codeForStatus(status), message } });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new AoinbError('NOT_FOUND', `no such route: ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(error.toJSON());
  });
}
