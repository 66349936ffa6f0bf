import type { FastifyInstance } from 'fastify';
import { Health, routes } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { routeOptions } from '../route-schema.ts';

export function healthRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get(
    routes.health,
    routeOptions({
      summary: 'Liveness and Redis reachability',
      description: '503 with the same body when Redis does not answer within 2 s.',
      tags: ['meta'],
      access: 'public',
      ok: { 200: Health, 503: Health },
    }),
    async (_request, reply) => {
      const started = performance.now();
      const pong = await Promise.race([
        ctx.redis.ping().catch(() => 'down'),
        new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 2000)),
      ]);
      const redis = pong === 'PONG' ? 'up' : 'down';
      return reply
        .status(redis === 'up' ? 200 : 503)
        .send({ ok: redis === 'up', redis, redis_ms: Math.round(performance.now() - started) });
    },
  );
}
