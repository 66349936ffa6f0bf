import type { FastifyInstance } from 'fastify';
import { FarmInfo, QueueCounts, routes, Whoami } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { principalOf } from '../auth.ts';
import { routeOptions } from '../route-schema.ts';

/** Who am I, what is this farm, how deep are its queues: what a dashboard (or `aoinb`) shows first. */
export function farmInfoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const coordinator = ctx.config.farm.coordinator;

  app.get(
    routes.whoami,
    routeOptions({ summary: "The calling token's name and role", tags: ['farm'], access: 'any', ok: { 200: Whoami } }),
    async (request) => {
      const principal = principalOf(request);
      return { name: principal.name, role: principal.role };
    },
  );

  app.get(
    routes.farm,
    routeOptions({
      summary: 'Archs with queues, the noarch arch, public URL and the Grafana link when configured',
      tags: ['farm'],
      access: 'any',
      ok: { 200: FarmInfo },
    }),
    async () => ({
      archs: coordinator.archs,
      noarch_arch: coordinator.noarchArch,
      public_url: coordinator.publicUrl,
      grafana_url: coordinator.grafanaUrl ?? null,
      notify_webhooks: ctx.config.notify.webhooks.map((w) => ({ name: w.name, format: w.format, events: w.events })),
    }),
  );

  app.get(
    routes.queue,
    routeOptions({
      summary: 'Jobs per arch queue: waiting (incl. prioritized and delayed), active, failed',
      tags: ['farm'],
      access: 'any',
      ok: { 200: QueueCounts },
    }),
    async () => {
      const counts = await ctx.dispatcher.counts();
      return {
        queues: Object.entries(counts).map(([arch, c]) => ({
          arch,
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
          active: c.active ?? 0,
          failed: c.failed ?? 0,
          completed: c.completed ?? 0,
        })),
      };
    },
  );
}
