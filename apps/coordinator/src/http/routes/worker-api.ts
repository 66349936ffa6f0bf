import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AoinbError, failureClasses } from '@aoinb/errors';
import { attemptKeyHash, attemptKeyHeader, type BuildJobResult } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { acceptResult, debNamePattern, receiveArtifact } from '../../services/result-service.ts';
import { requireTask } from '../../services/task-service.ts';
import type { Access } from '../auth.ts';
import { bodyStream, checksumHeader } from './bundle.ts';

const buildParams = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[0-9]+$' },
    arch: { type: 'string', pattern: '^[a-z0-9][a-z0-9_]*$' },
    name: { type: 'string' },
  },
  required: ['id', 'arch'],
} as const;

const resultBody = {
  type: 'object',
  required: ['status', 'builder', 'run', 'attempt', 'startedAt', 'finishedAt', 'artifacts', 'phases'],
  properties: {
    status: { type: 'string', enum: ['succeeded', 'failed', 'cancelled'] },
    reason: { type: 'string' },
    failureClass: { type: 'string', enum: [...failureClasses] },
    builder: { type: 'string' },
    run: { type: 'integer', minimum: 1 },
    attempt: { type: 'integer', minimum: 1 },
    startedAt: { type: 'string' },
    finishedAt: { type: 'string' },
    artifacts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'size', 'sha256'],
        properties: {
          name: { type: 'string' },
          size: { type: 'integer' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        },
      },
    },
    phases: { type: 'object', additionalProperties: { type: 'number' } },
    resources: { type: 'object' },
  },
} as const;

/**
 * The worker token says "a worker"; the attempt key says "the worker running this
 * run and attempt". Its hash binds the task, arch and run; the store's scripts
 * compare it with the claim's (an unknown key is a 403, another run or attempt a
 * 409 STALE_ATTEMPT), before any byte of an upload is stored.
 */
function presentedKeyHash(taskId: string, arch: string, run: number, header: string | string[] | undefined): string {
  return typeof header === 'string' && header ? attemptKeyHash(header, { taskId, arch, run }) : '';
}

export function workerRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const worker: Access = ['worker'];
  app.put<{ Params: { id: string; arch: string; name: string }; Querystring: { run: number; attempt: number } }>(
    '/task/:id/artifact/:arch/:name',
    {
      config: { access: worker },
      schema: {
        summary:
          'Worker: upload one .deb of a running attempt (X-Checksum-Sha256 required; the same bytes again is a no-op)',
        tags: ['workers'],
        params: buildParams,
        querystring: {
          type: 'object',
          properties: { run: { type: 'integer', minimum: 1 }, attempt: { type: 'integer', minimum: 1 } },
          required: ['run', 'attempt'],
        },
      },
    },
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

  app.put<{ Params: { id: string; arch: string }; Body: BuildJobResult }>(
    '/task/:id/result/:arch',
    {
      config: { access: worker },
      schema: {
        summary: 'Worker: report the result of an attempt (fenced on the run, the attempt and its key)',
        tags: ['workers'],
        params: buildParams,
        body: resultBody,
      },
    },
    async (request) => {
      const { id, arch } = request.params;
      const keyHash = presentedKeyHash(id, arch, request.body.run, request.headers[attemptKeyHeader]);
      const state = await acceptResult(ctx, id, arch, request.body, keyHash);
      return { id: request.params.id, arch: request.params.arch, state };
    },
  );

  app.get<{ Params: { id: string; arch: string; name: string } }>(
    '/task/:id/artifact/:arch/:name',
    {
      schema: { summary: 'Download an artifact of a finished build', tags: ['tasks'], params: buildParams },
    },
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
