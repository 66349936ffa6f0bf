import type { FastifyInstance } from 'fastify';
import { readBuilders } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { builderView } from '../views.ts';

export function builderRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get(
    '/builder/status',
    {
      schema: {
        summary: 'Every builder: state idle|building|offline, arch tags, current tasks, host facts',
        tags: ['builders'],
      },
    },
    async () => ({ builders: (await readBuilders(ctx.redis, Date.now(), ctx.keys)).map(builderView) }),
  );
}
