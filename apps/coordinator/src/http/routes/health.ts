import type { FastifyInstance } from 'fastify';
import type { CoordinatorContext } from '../../context.ts';

export function healthRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { summary: 'Liveness and Redis reachability', tags: ['meta'] },
    },
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
