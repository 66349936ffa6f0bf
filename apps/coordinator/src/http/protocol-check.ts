import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import { PROTOCOL_VERSION, protocolHeader, protocolOf } from '@aoinb/farm-contract';

/**
 * Refuses a caller of another protocol version before the route runs: an older
 * worker could misread a newer job or send a result this coordinator misreads.
 * A worker must send it to the worker routes (bundle download, uploads, result);
 * elsewhere, and for people's clients, it may be left out.
 * Public routes (apt, health, the dashboard's files) take any caller. Runs after
 * authentication (it needs the caller's role).
 */
export function registerProtocolCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config?.access === 'public' || request.routeOptions.url === undefined) return;
    const raw = request.headers[protocolHeader];
    const theirs = protocolOf(raw);
    const access = request.routeOptions.config?.access;
    const workerRoute = Array.isArray(access) && access.includes('worker');
    if (raw === undefined && !(workerRoute && request.principal?.role === 'worker')) return;
    if (theirs === PROTOCOL_VERSION) return;
    void reply.header('upgrade', `aoinb-protocol/${PROTOCOL_VERSION}`);
    const said =
      raw === undefined
        ? `sent no ${protocolHeader} header (a worker must)`
        : theirs === undefined
          ? `sent ${protocolHeader}: ${JSON.stringify(raw)}, not a version number`
          : `speaks protocol version ${theirs}`;
    throw new AoinbError(
      'PROTOCOL_MISMATCH',
      `the caller ${said}; this coordinator speaks protocol version ${PROTOCOL_VERSION}: ` +
        `run the same aoinb release on both`,
    );
  });
}
