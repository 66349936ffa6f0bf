import type { FastifyInstance } from 'fastify';
import { Health, HealthDown, routes } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { redisRetryAfterSeconds } from '../../resilience/redis-fail-fast.ts';
import { routeOptions } from '../route-schema.ts';

/**
 * `/healthz`: 200 while Redis answers and holds this farm's identity; 503 with
 * `{ error: { code, message } }` (and the old `ok`/`redis` fields) otherwise:
 * `UNAVAILABLE` (with `Retry-After`) when Redis does not answer within 2 s,
 * `FARM_IDENTITY_LOST` when it answers but lost the farm's data.
 */
export function healthRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get(
    routes.health,
    routeOptions({
      summary: 'Liveness, Redis reachability and the farm identity',
      description:
        '503 UNAVAILABLE (with Retry-After) when Redis does not answer within 2 s, ' +
        '503 FARM_IDENTITY_LOST when it answers but does not hold this farm identity.',
      tags: ['meta'],
      access: 'public',
      ok: { 200: Health },
      answers: { 503: HealthDown },
    }),
    async (_request, reply) => {
      const started = performance.now();
      const pong = await Promise.race([
        ctx.redis.ping().catch(() => 'down'),
        new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref()),
      ]);
      const redis = pong === 'PONG' ? 'up' : 'down';
      const redis_ms = Math.round(performance.now() - started);
      if (redis === 'down')
        return reply
          .status(503)
          .header('retry-after', String(redisRetryAfterSeconds))
          .send({ ok: false, redis, redis_ms, error: { code: 'UNAVAILABLE', message: 'Redis does not answer' } });
      const identity = await ctx.identity.check().catch(() => ctx.identity.state);
      if (!identity.ok)
        return reply.status(503).send({
          ok: false,
          redis,
          redis_ms,
          farm_id: ctx.identity.farmId,
          error: { code: 'FARM_IDENTITY_LOST', message: identity.reason },
        });
      return reply.status(200).send({ ok: true, redis, redis_ms, farm_id: ctx.identity.farmId });
    },
  );
}
