import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AoinbError } from '@aoinb/errors';
import { BundleReply, IdParams, routes } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { openBundleArchive } from '../../services/bundle-archive.ts';
import { receiveBundle } from '../../services/bundle-service.ts';
import { requireTask } from '../../services/task-service.ts';
import { sha256Pattern } from '../../storage/receive-upload.ts';
import type { Access } from '../auth.ts';
import { routeOptions } from '../route-schema.ts';
import { withBundleUploadLock } from '../upload-lock.ts';

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

/** Maintainers: upload (or replace) a task's bundle. */
function bundleUploadRoute(app: FastifyInstance, ctx: CoordinatorContext): void {
  const maintainer: Access = ['maintainer'];
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.put(
    routes.taskBundle,
    routeOptions({
      summary: 'Upload the bundle: a tar (plain, gzip, xz or zstd) of the bundle folder',
      description:
        'The folder at the root of the archive or in one top folder; optional X-Checksum-Sha256. The same ' +
        'bytes again is a no-op (200); another bundle replaces it until the task is built (409 after).',
      tags: ['tasks'],
      access: maintainer,
      params: IdParams,
      rawBody: { mediaType: 'application/x-tar', description: 'the bundle archive' },
      ok: { 200: BundleReply, 201: BundleReply },
      errors: [404, 409, 413, 422],
    }),
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
}

/** Workers and maintainers: download a task's bundle as uploaded. */
function bundleDownloadRoute(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    routes.taskBundle,
    routeOptions({
      summary: 'Download the bundle archive as uploaded (workers fetch it)',
      tags: ['tasks'],
      access: ['worker', 'maintainer'],
      params: IdParams,
      ok: { 200: { mediaType: 'application/octet-stream', description: 'the bundle archive, as uploaded' } },
      errors: [404, 410],
    }),
    async (request, reply) => {
      const task = await requireTask(ctx, request.params.id);
      if (!task.bundle) throw new AoinbError('NOT_FOUND', `task ${task.id} has no bundle`);
      // Opened before the answer starts: a file gone from storage is a 410, not a stream error's 500.
      const archive = await openBundleArchive(ctx, task);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('x-checksum-sha256', task.bundle.sha256)
        .header('content-length', task.bundle.size)
        .send(archive.createReadStream());
    },
  );
}

/** A task's bundle: its upload (parsed and checked before it replaces the old one) and download. */
export function bundleRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  bundleUploadRoute(app, ctx);
  bundleDownloadRoute(app, ctx);
}
