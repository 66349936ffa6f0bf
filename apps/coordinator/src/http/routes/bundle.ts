import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { CoordinatorContext } from '../../context.ts';
import { receiveBundle } from '../../services/bundle-service.ts';
import { requireTask } from '../../services/task-service.ts';
import { sha256Pattern } from '../../storage/receive-upload.ts';
import type { Access } from '../auth.ts';
import { withBundleUploadLock } from '../upload-lock.ts';

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]+$' } },
  required: ['id'],
} as const;

/** The raw body: a stream from the catch-all content-type parser, or a string/Buffer from the built-in ones. */
export function bodyStream(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Readable.from([Buffer.from(body)]);
  throw new AoinbError('USAGE', 'the request needs a body (the archive bytes)');
}

export function checksumHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase();
  if (!text || !sha256Pattern.test(text))
    throw new AoinbError('USAGE', 'X-Checksum-Sha256 must be 64 lowercase hex digits');
  return text;
}

export function bundleRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const maintainer: Access = ['maintainer'];
  app.put<{ Params: { id: string } }>(
    '/task/:id/build_bundle',
    {
      config: { access: maintainer },
      schema: {
        summary:
          'Upload the bundle: a tar (plain, gzip, xz or zstd) of the bundle folder, at the root or in one top folder; optional X-Checksum-Sha256',
        tags: ['tasks'],
        params: idParams,
      },
    },
    async (request, reply) => {
      const expected = checksumHeader(request.headers['x-checksum-sha256']);
      const result = await withBundleUploadLock(ctx, request.params.id, () =>
        receiveBundle(ctx, request.params.id, bodyStream(request.body), expected),
      );
      const { info } = result;
      return reply.status(result.unchanged ? 200 : 201).send({
        id: request.params.id,
        sha256: info.sha256,
        size: info.size,
        package: { name: info.packageName, version: info.version, noarch: info.noarch },
        targets: info.targets,
        denied: result.denied,
        unchanged: result.unchanged,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/task/:id/build_bundle',
    {
      config: { access: ['worker', 'maintainer'] },
      schema: {
        summary: 'Download the bundle archive as uploaded (workers fetch it)',
        tags: ['tasks'],
        params: idParams,
      },
    },
    async (request, reply) => {
      const task = await requireTask(ctx, request.params.id);
      if (!task.bundle) throw new AoinbError('NOT_FOUND', `task ${task.id} has no bundle`);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('x-checksum-sha256', task.bundle.sha256)
        .header('content-length', task.bundle.size)
        .send(createReadStream(ctx.layout.bundleArchive(task.id)));
    },
  );
}
