import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { AoinbError } from '@aoinb/errors';
import { FarmIdentity, FarmIdentityAdopted, routes } from '@aoinb/farm-contract';
import { farmIdHeader } from '@aoinb/farm-protocol';
import { routeOptions } from '../http/route-schema.ts';
import type { FarmIdentityGuard } from './farm-identity-guard.ts';

const readOnly = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The operator's way out must stay open while everything else is refused. */
const adoptRoute = routes.farmIdentityAdopt;

/**
 * Every changing request is refused while Redis does not hold the farm's
 * identity (checked again for each one, so a FLUSHALL is caught before the
 * next periodic check), and a worker of another farm identity is refused
 * outright: its uploads and reports belong to builds this farm never had.
 */
export function registerIdentityChecks(app: FastifyInstance, guard: FarmIdentityGuard): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    // Public routes (health, apt, dashboard files) are open to anyone, whatever farm they name.
    if (request.routeOptions.config?.access === 'public') return;
    const workerFarm = request.headers[farmIdHeader];
    if (typeof workerFarm === 'string' && workerFarm !== guard.farmId)
      throw new AoinbError(
        'FARM_MISMATCH',
        `this worker joined farm ${workerFarm}, this coordinator serves farm ${guard.farmId}; ` +
          `restart the worker to join`,
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
    routes.farmIdentity,
    routeOptions({
      summary: "The farm's identity and whether Redis still holds it",
      tags: ['farm'],
      access: 'any',
      ok: { 200: FarmIdentity },
    }),
    async (): Promise<FarmIdentity> => {
      const state = await guard.check().catch(() => guard.state);
      return state.ok
        ? { farm_id: guard.farmId, ok: true }
        : { farm_id: guard.farmId, ok: false, reason: state.reason, since: state.since };
    },
  );
  app.post(
    adoptRoute,
    routeOptions({
      summary: "Recovery: write this farm's identity into a Redis that lost its data, counters raised",
      description: "For an operator who checked that the Redis is this farm's and lost its data (docs/operations.md).",
      tags: ['farm'],
      access: ['admin'],
      ok: { 200: FarmIdentityAdopted },
      errors: [409],
    }),
    async (): Promise<FarmIdentityAdopted> => {
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
