import type { FastifyError, FastifyInstance } from 'fastify';
import { AoinbError, isAoinbError, type ErrorCode } from '@aoinb/errors';

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
