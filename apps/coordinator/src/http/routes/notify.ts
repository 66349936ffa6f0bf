import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AoinbError } from '@aoinb/errors';
import { NotifyTestBody, NotifyTestReply, routes } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { testMessage } from '../../notify/notify-message.ts';
import { deliver } from '../../notify/webhook-sender.ts';
import { principalOf } from '../auth.ts';
import { routeOptions } from '../route-schema.ts';

/** `aoinb notify test`: one test message to every configured webhook (or the one named), one attempt each. */
export function notifyRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    routes.notifyTest,
    routeOptions({
      summary: 'Send a test message to the [[notify.webhook]] receivers and report what each answered',
      tags: ['notify'],
      access: ['maintainer'],
      body: NotifyTestBody,
      ok: { 200: NotifyTestReply },
      errors: [404],
    }),
    async (request) => {
      const wanted = request.body?.webhook;
      const hooks = ctx.config.notify.webhooks.filter((w) => !wanted || w.name === wanted);
      if (hooks.length === 0) {
        throw new AoinbError(
          'NOT_FOUND',
          wanted
            ? `no webhook is named ${JSON.stringify(wanted)} ` +
                `(configured: ${ctx.config.notify.webhooks.map((w) => w.name).join(', ') || 'none'})`
            : 'no [[notify.webhook]] is configured',
        );
      }
      const message = testMessage(ctx, principalOf(request).name);
      const signal = AbortSignal.timeout(60_000);
      const results = await Promise.all(
        hooks.map(async (hook) => ({
          webhook: hook.name,
          format: hook.format,
          ...(await deliver(hook, message, ctx.logger, signal, 1)),
        })),
      );
      return { delivery: message.delivery, results };
    },
  );
}
