import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ArchParams,
  ArtifactParams,
  ArtifactUploadQuery,
  ArtifactUploadReply,
  BuildJobResult,
  ResultReply,
  routes,
} from '@aoinb/farm-contract';
import { attemptKeyHeader, attemptKeyMatches } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { acceptResult, debNamePattern, receiveArtifact } from '../../services/result-service.ts';
import { requireTask } from '../../services/task-service.ts';
import type { Access } from '../auth.ts';
import { routeOptions } from '../route-schema.ts';
import { bodyStream, checksumHeader } from './bundle.ts';

/**
 * The worker token says "a worker"; the attempt key says "the worker running this
 * attempt". Checked before any byte of an upload is stored. Calls for another
 * attempt, or a build not running, are left to the fencing (409) as before.
 */
async function requireAttemptKey(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  attempt: number,
  header: string | string[] | undefined,
): Promise<void> {
  const build = await ctx.store.getBuild(taskId, arch);
  if (!build || build.state !== 'running' || build.attempt !== attempt) return;
  if (!attemptKeyMatches(typeof header === 'string' ? header : undefined, build?.attemptKeyHash)) {
    throw new AoinbError(
      'FORBIDDEN',
      `task ${taskId} (${arch}): the ${attemptKeyHeader} header is missing or not the running attempt's key`,
    );
  }
}

export function workerRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const worker: Access = ['worker'];
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.put(
    routes.taskArtifact,
    routeOptions({
      summary: 'Worker: upload one .deb of a running attempt',
      description:
        'X-Checksum-Sha256 and x-aoinb-attempt-key required; the same bytes again is a no-op (200), other bytes under the name a 409.',
      tags: ['workers'],
      access: worker,
      params: ArtifactParams,
      querystring: ArtifactUploadQuery,
      rawBody: { mediaType: 'application/vnd.debian.binary-package', description: 'the .deb' },
      ok: { 200: ArtifactUploadReply, 201: ArtifactUploadReply },
      errors: [404, 409, 413, 422],
    }),
    async (request, reply) => {
      const sha256 = checksumHeader(request.headers['x-checksum-sha256']);
      if (!sha256) throw new AoinbError('USAGE', 'an artifact upload needs the X-Checksum-Sha256 header');
      const { id, arch, name } = request.params;
      await requireAttemptKey(ctx, id, arch, request.query.attempt, request.headers[attemptKeyHeader]);
      const stored = await receiveArtifact(
        ctx,
        id,
        arch,
        name,
        request.query.attempt,
        sha256,
        bodyStream(request.body),
      );
      return reply
        .status(stored.created ? 201 : 200)
        .send({ name, sha256, size: stored.size, created: stored.created });
    },
  );

  r.put(
    routes.taskResult,
    routeOptions({
      summary: 'Worker: report the result of an attempt (fenced on the attempt)',
      description: 'A result of an attempt that is not the running one is refused with 409.',
      tags: ['workers'],
      access: worker,
      params: ArchParams,
      body: BuildJobResult,
      ok: { 200: ResultReply },
      errors: [404, 409, 422],
    }),
    async (request) => {
      await requireAttemptKey(
        ctx,
        request.params.id,
        request.params.arch,
        request.body.attempt,
        request.headers[attemptKeyHeader],
      );
      const state = await acceptResult(ctx, request.params.id, request.params.arch, request.body);
      return { id: request.params.id, arch: request.params.arch, state };
    },
  );

  r.get(
    routes.taskArtifact,
    routeOptions({
      summary: 'Download an artifact of a finished build',
      tags: ['tasks'],
      access: 'any',
      params: ArtifactParams,
      ok: { 200: { mediaType: 'application/vnd.debian.binary-package', description: 'the .deb' } },
      errors: [404],
    }),
    async (request, reply) => {
      const { id, arch, name } = request.params;
      const task = await requireTask(ctx, id);
      const build = task.archs.includes(arch) ? await ctx.store.getBuild(task.id, arch) : undefined;
      if (!build || !debNamePattern.test(name) || !build.artifacts.some((a) => a.name === name))
        throw new AoinbError('NOT_FOUND', `task ${id} has no artifact ${name} for ${arch}`);
      const file = path.join(ctx.layout.artifactDir(task.id, arch, build.run, build.attempt), name);
      const info = await stat(file).catch(() => undefined);
      if (!info) throw new AoinbError('NOT_FOUND', `artifact ${name} of task ${id} is no longer stored`);
      return reply
        .header('content-type', 'application/vnd.debian.binary-package')
        .header('content-length', info.size)
        .send(createReadStream(file));
    },
  );
}
