import type { FastifyInstance } from 'fastify';
import type { CoordinatorContext } from '../../context.ts';
import { principalOf } from '../auth.ts';

/** Who am I, what is this farm, how deep are its queues: what a dashboard (or `aoinb`) shows first. */
export function farmInfoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const coordinator = ctx.config.farm.coordinator;

  app.get(
    '/whoami',
    {
      schema: { summary: "The calling token's name and role", tags: ['farm'] },
    },
    async (request) => {
      const principal = principalOf(request);
      return { name: principal.name, role: principal.role };
    },
  );

  app.get(
    '/farm',
    {
      schema: {
        summary: 'Archs with queues, the noarch arch, public URL and the Grafana link when configured',
        tags: ['farm'],
      },
    },
    async () => ({
      archs: coordinator.archs,
      noarch_arch: coordinator.noarchArch,
      public_url: coordinator.publicUrl,
      grafana_url: coordinator.grafanaUrl ?? null,
      notify_webhooks: ctx.config.notify.webhooks.map((w) => ({ name: w.name, format: w.format, events: w.events })),
    }),
  );

  app.get(
    '/queue',
    {
      schema: {
        summary: 'Jobs per arch queue: waiting (incl. prioritized and delayed), active, failed',
        tags: ['farm'],
      },
    },
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
