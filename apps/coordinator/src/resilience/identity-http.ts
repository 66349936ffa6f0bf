import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { AoinbError } from '@aoinb/errors';
import { farmIdHeader } from '@aoinb/farm-protocol';
import type { FarmIdentityGuard } from './farm-identity-guard.ts';

const readOnly = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The operator's way out must stay open while everything else is refused. */
const adoptRoute = '/farm/identity/adopt';

/**
 * Every changing request is refused while Redis does not hold the farm's
 * identity (checked again for each one, so a FLUSHALL is caught before the
 * next periodic check), and a worker of another farm identity is refused
 * outright: its uploads and reports belong to builds this farm never had.
 */
export function registerIdentityChecks(app: FastifyInstance, guard: FarmIdentityGuard): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    const workerFarm = request.headers[farmIdHeader];
    if (typeof workerFarm === 'string' && workerFarm !== guard.farmId)
      throw new AoinbError(
        'FARM_MISMATCH',
        `this worker joined farm ${workerFarm}, this coordinator serves farm ${guard.farmId}; restart the worker to join`,
      );
    if (readOnly.has(request.method) || request.routeOptions.url === adoptRoute) return;
    if (request.routeOptions.url === undefined) return;
    await guard.check();
    guard.assertOk();
  });
}

/** `GET /farm/identity` (any token) and the recovery, `POST /farm/identity/adopt` (admin). */
export function identityRoutes(app: FastifyInstance, guard: FarmIdentityGuard): void {
  app.get(
    '/farm/identity',
    { schema: { summary: "The farm's identity and whether Redis still holds it", tags: ['meta'] } },
    async () => {
      const state = await guard.check().catch(() => guard.state);
      return state.ok
        ? { farm_id: guard.farmId, ok: true }
        : { farm_id: guard.farmId, ok: false, reason: state.reason, since: state.since };
    },
  );
  app.post(
    adoptRoute,
    {
      config: { access: ['admin'] },
      schema: {
        summary: "Recovery: write this farm's identity into a Redis that lost its data, counters raised",
        tags: ['meta'],
      },
    },
    async () => {
      await guard.adopt();
      return { farm_id: guard.farmId, ok: true };
    },
  );
}

/** `aoinb_farm_identity_ok`: 1 while Redis holds the farm identity (the AoinbFarmIdentityLost alert). */
export function registerIdentityMetric(registry: Registry, guard: FarmIdentityGuard): void {
  new Gauge({
    name: 'aoinb_farm_identity_ok',
    help: "1 while Redis holds this coordinator's farm identity; 0 when Redis lost its data or is another farm's",
    registers: [registry],
    collect() {
      this.set(guard.state.ok ? 1 : 0);
    },
  });
}
