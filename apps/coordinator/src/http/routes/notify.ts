import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { CoordinatorContext } from '../../context.ts';
import { testMessage } from '../../notify/notify-message.ts';
import { deliver } from '../../notify/webhook-sender.ts';
import { principalOf } from '../auth.ts';

/** `aoinb notify test`: one test message to every configured webhook (or the one named), one attempt each. */
export function notifyRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post<{ Body: { webhook?: string } | undefined }>(
    '/notify/test',
    {
      config: { access: ['maintainer'] },
      schema: {
        summary: 'Send a test message to the [[notify.webhook]] receivers and report what each answered',
        tags: ['notify'],
        body: {
          type: 'object',
          properties: { webhook: { type: 'string', maxLength: 200 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const wanted = request.body?.webhook;
      const hooks = ctx.config.notify.webhooks.filter((w) => !wanted || w.name === wanted);
      if (hooks.length === 0) {
        throw new AoinbError(
          'NOT_FOUND',
          wanted
            ? `no webhook is named ${JSON.stringify(wanted)} (configured: ${ctx.config.notify.webhooks.map((w) => w.name).join(', ') || 'none'})`
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
