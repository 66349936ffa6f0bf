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
import { attemptKeyHash, attemptKeyHeader } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { acceptResult, debNamePattern, receiveArtifact } from '../../services/result-service.ts';
import { requireTask } from '../../services/task-service.ts';
import type { Access } from '../auth.ts';
import { routeOptions } from '../route-schema.ts';
import { bodyStream, checksumHeader } from './bundle.ts';

/**
 * The worker token says "a worker"; the attempt key says "the worker running this
 * run and attempt". Its hash binds the task, arch and run; the store's scripts
 * compare it with the claim's (an unknown key is a 403, another run or attempt a
 * 409 STALE_ATTEMPT), before any byte of an upload is stored.
 */
function presentedKeyHash(taskId: string, arch: string, run: number, header: string | string[] | undefined): string {
  return typeof header === 'string' && header ? attemptKeyHash(header, { taskId, arch, run }) : '';
}

const worker: Access = ['worker'];

/** Workers: upload one .deb of the running attempt. */
function artifactUploadRoute(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.put(
    routes.taskArtifact,
    routeOptions({
      summary: 'Worker: upload one .deb of a running attempt',
      description:
        'X-Checksum-Sha256 and x-aoinb-attempt-key required, `?run=&attempt=` name the claim; the same bytes again ' +
        'is a no-op (200), other bytes under the name a 409; another run or attempt a 409 STALE_ATTEMPT; ' +
        'a full storage disk a 507 STORAGE_FULL with Retry-After.',
      tags: ['workers'],
      access: worker,
      params: ArtifactParams,
      querystring: ArtifactUploadQuery,
      rawBody: { mediaType: 'application/vnd.debian.binary-package', description: 'the .deb' },
      ok: { 200: ArtifactUploadReply, 201: ArtifactUploadReply },
      errors: [404, 409, 413, 422, 507],
    }),
    async (request, reply) => {
      const sha256 = checksumHeader(request.headers['x-checksum-sha256']);
      if (!sha256) throw new AoinbError('USAGE', 'an artifact upload needs the X-Checksum-Sha256 header');
      const { id, arch, name } = request.params;
      const { run, attempt } = request.query;
      const keyHash = presentedKeyHash(id, arch, run, request.headers[attemptKeyHeader]);
      const call = { run, attempt, attemptKeyHash: keyHash };
      const stored = await receiveArtifact(ctx, id, arch, name, call, sha256, bodyStream(request.body));
      return reply
        .status(stored.created ? 201 : 200)
        .send({ name, sha256, size: stored.size, created: stored.created });
    },
  );
}

/** Workers: report an attempt's result. */
function resultRoute(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.put(
    routes.taskResult,
    routeOptions({
      summary: 'Worker: report the result of an attempt (fenced on the run, the attempt and its key)',
      description:
        'A result of a run or attempt that is not the running one is refused with 409 STALE_ATTEMPT, ' +
        'a repeat once one was applied with 409 CONFLICT.',
      tags: ['workers'],
      access: worker,
      params: ArchParams,
      body: BuildJobResult,
      ok: { 200: ResultReply },
      errors: [404, 409, 422],
    }),
    async (request) => {
      const { id, arch } = request.params;
      const keyHash = presentedKeyHash(id, arch, request.body.run, request.headers[attemptKeyHeader]);
      const state = await acceptResult(ctx, id, arch, request.body, keyHash);
      return { id: request.params.id, arch: request.params.arch, state };
    },
  );
}

/** Anyone with a token: download a finished build's .deb. */
function artifactDownloadRoute(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
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

/** What workers call (uploads and results, fenced on the attempt) and the artifacts' downloads. */
export function workerRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  artifactUploadRoute(app, ctx);
  resultRoute(app, ctx);
  artifactDownloadRoute(app, ctx);
}
