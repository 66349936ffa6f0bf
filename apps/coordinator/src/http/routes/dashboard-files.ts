import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import { Type } from 'typebox';
import { routes } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { routeOptions } from '../route-schema.ts';

/**
 * The web dashboard: static files built by `npm run build` (apps/dashboard) into
 * a folder, served as files. The coordinator never imports the dashboard's code;
 * the page talks to the same API as the CLI, with the token the user signs in with.
 */
const defaultDir = path.resolve(import.meta.dirname, '../../../../dashboard/dist');
const assetName = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(js|css|svg|png|ico|map|woff2)$/;
const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  map: 'application/json',
  woff2: 'font/woff2',
};
// Scripts, styles and fetches only from this origin; no frames, no inline script.
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async function sendFile(reply: FastifyReply, file: string, cache: string): Promise<FastifyReply> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    if (file.endsWith('index.html'))
      throw new AoinbError(
        'UNAVAILABLE',
        'the dashboard is not built: run `npm run build` in the repository (scripts/quickstart.sh does)',
      );
    throw new AoinbError('NOT_FOUND', `the dashboard has no file ${path.basename(file)}`);
  }
  const ext = path.extname(file).slice(1);
  return reply
    .header('content-type', types[ext] ?? 'application/octet-stream')
    .header('content-length', info.size)
    .header('cache-control', cache)
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(createReadStream(file));
}

export function dashboardRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const dir = ctx.config.farm.coordinator.dashboardDir ?? defaultDir;
  app.get(
    routes.dashboard,
    routeOptions({
      summary: 'The web dashboard (sign in with a token)',
      tags: ['dashboard'],
      access: 'public',
      ok: { 200: { mediaType: 'text/html', description: 'the page' } },
      errors: [404],
    }),
    async (_request, reply) => sendFile(reply, path.join(dir, 'index.html'), 'no-cache'),
  );
  app.get<{ Params: { name: string } }>(
    routes.dashboardAsset,
    routeOptions({
      summary: "The dashboard's scripts and styles",
      tags: ['dashboard'],
      access: 'public',
      params: Type.Object({ name: Type.String() }),
      ok: { 200: { mediaType: 'application/octet-stream', description: 'the file (its content type by extension)' } },
      errors: [404],
    }),
    async (request, reply) => {
      const name = request.params.name;
      if (!assetName.test(name)) throw new AoinbError('NOT_FOUND', `the dashboard has no file ${JSON.stringify(name)}`);
      // Names carry a content hash (esbuild's [hash]), so they never change.
      return sendFile(reply, path.join(dir, 'assets', name), 'public, max-age=31536000, immutable');
    },
  );
}
