import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Aborts when the client goes away before its answer was sent. */
    clientGone?: AbortSignal;
  }
}

/**
 * A request whose client has gone does not run: its handler is skipped when
 * the connection closed while it waited (for its body, behind a slow Redis),
 * and `request.clientGone` lets a long handler stop between steps.
 */
export function registerRequestAbort(app: FastifyInstance): void {
  app.decorateRequest('clientGone', undefined);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const controller = new AbortController();
    request.clientGone = controller.signal;
    // The socket may be gone already (an earlier hook was slow): then no 'close' comes any more.
    if (clientLeft(request, reply)) controller.abort();
    else
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) controller.abort();
      });
  });
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.clientGone?.aborted && !clientLeft(request, reply)) return;
    request.log.info({ url: request.url, method: request.method }, 'client went away before the handler ran; skipped');
    // Nobody is listening; hijacking ends the request without running the handler.
    reply.hijack();
    reply.raw.destroy();
  });
}

function clientLeft(request: FastifyRequest, reply: FastifyReply): boolean {
  return reply.raw.destroyed || request.raw.socket?.destroyed === true;
}
