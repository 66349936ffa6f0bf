import type { FastifyInstance } from 'fastify';
import { BuilderList, routes } from '@aoinb/farm-contract';
import { readBuilders } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { routeOptions } from '../route-schema.ts';
import { builderView } from '../views.ts';

export function builderRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get(
    routes.builders,
    routeOptions({
      summary: 'Every builder: state idle|building|offline, arch tags, current tasks, host facts',
      tags: ['builders'],
      access: 'any',
      ok: { 200: BuilderList },
    }),
    async () => ({ builders: (await readBuilders(ctx.redis, Date.now(), ctx.keys)).map(builderView) }),
  );
}
