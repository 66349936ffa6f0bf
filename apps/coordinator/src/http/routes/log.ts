import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AoinbError } from '@aoinb/errors';
import { IdParams, LogQuery, routes } from '@aoinb/farm-contract';
import { readLogEntries, type BuildRecord, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { requireTask } from '../../services/task-service.ts';
import { routeOptions } from '../route-schema.ts';
import { followLog } from '../sse-log.ts';
import { principalOf } from '../auth.ts';

async function pickBuild(ctx: CoordinatorContext, task: TaskRecord, arch?: string): Promise<BuildRecord> {
  const chosen = arch ?? task.archs[0];
  if (!chosen) throw new AoinbError('NOT_FOUND', `task ${task.id} has not been built yet: no log`);
  const build = task.archs.includes(chosen) ? await ctx.store.getBuild(task.id, chosen) : undefined;
  if (!build)
    throw new AoinbError('NOT_FOUND', `task ${task.id} has no build for ${chosen} (archs: ${task.archs.join(', ')})`);
  return build;
}

/** The whole log as text: the archive once written, else straight from the Redis stream. */
function fullText(ctx: CoordinatorContext, key: string): Readable {
  return Readable.from(
    (async function* () {
      let after = '0';
      for (;;) {
        const entries = await readLogEntries(ctx.redis, key, after, 1000);
        if (entries.length === 0) return;
        const text = entries
          .filter((e) => e.lines.length > 0)
          .map((e) => `${e.lines.join('\n')}\n`)
          .join('');
        if (text) yield text;
        after = entries[entries.length - 1]!.id;
      }
    })(),
  );
}

async function sendText(
  ctx: CoordinatorContext,
  reply: FastifyReply,
  task: TaskRecord,
  build: BuildRecord,
  run: number,
): Promise<FastifyReply> {
  reply.header('content-type', 'text/plain; charset=utf-8');
  const archive = ctx.layout.logFile(task.id, build.arch, run);
  if (await stat(archive).catch(() => undefined)) return reply.send(createReadStream(archive));
  return reply.send(fullText(ctx, ctx.keys.log(task.id, build.arch, run)));
}

export function logRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    routes.taskLog,
    routeOptions({
      summary:
        'The build log: full text, or live as Server-Sent Events (Accept: text/event-stream or ?follow=true), ' +
        'resumable with Last-Event-ID',
      description:
        'SSE: `message` events carry lines (one `data:` per line) and an `id` to resume after; ' +
        'the last event is `end` with `{"state", "reason"}` (LogEndEvent).',
      tags: ['tasks'],
      access: 'any',
      params: IdParams,
      querystring: LogQuery,
      ok: { 200: { mediaType: 'text/plain', description: 'the log text, or text/event-stream when followed' } },
      errors: [404, 429],
    }),
    async (request, reply) => {
      const task = await requireTask(ctx, request.params.id);
      const build = await pickBuild(ctx, task, request.query.arch);
      const run = request.query.run ?? build.run;
      if (run > build.run) throw new AoinbError('NOT_FOUND', `task ${task.id} (${build.arch}) has no run ${run} yet`);
      const sse = request.query.follow === true || (request.headers.accept ?? '').includes('text/event-stream');
      if (!sse) return sendText(ctx, reply, task, build, run);
      const header = request.headers['last-event-id'];
      const lastEventId = (Array.isArray(header) ? header[0] : header) ?? request.query.last_event_id;
      // Over the token's cap this throws before the hijack, so the client gets a 429 body.
      const leave = ctx.logs.admit(principalOf(request).name);
      reply.hijack();
      try {
        await followLog(ctx, request.raw, reply.raw, { task, arch: build.arch, run, lastEventId });
      } finally {
        leave();
      }
      return reply;
    },
  );
}
