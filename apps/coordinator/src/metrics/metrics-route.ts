import type { FastifyInstance } from 'fastify';
import { routes } from '@aoinb/farm-contract';
import { routeOptions } from '../http/route-schema.ts';
import type { CoordinatorMetrics } from './coordinator-metrics.ts';

/**
 * `GET /metrics` (Prometheus text format). `[coordinator] metrics`: `token`
 * (default) asks for any valid bearer token, best a `reader` one; `public`
 * needs none; `off` registers no route.
 */
export function metricsRoutes(app: FastifyInstance, ctx: { metrics: CoordinatorMetrics }): void {
  const { metrics } = ctx;
  if (metrics.access === 'off') return;
  app.get(
    routes.metrics,
    routeOptions({
      summary: 'Prometheus metrics (queues, builds, builders, groups, HTTP, Redis); see docs/metrics.md',
      tags: ['meta'],
      access: metrics.access === 'public' ? 'public' : 'any',
      ok: { 200: { mediaType: 'text/plain', description: 'Prometheus text exposition format 0.0.4' } },
    }),
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(text);
    },
  );
}
