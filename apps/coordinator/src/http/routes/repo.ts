import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { assertBranchName } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { CoordinatorContext } from '../../context.ts';
import { repoFilePattern } from '../../repo/apt-repo.ts';

const contentTypes: Record<string, string> = {
  Packages: 'text/plain; charset=utf-8',
  Release: 'text/plain; charset=utf-8',
  'Packages.gz': 'application/gzip',
};

/**
 * `GET /repo/<branch>/<file>`: the branch's flat apt repository, public (apt in
 * a build container has no token): `deb [trusted=yes] <public_url>/repo/<branch> ./`.
 */
export function repoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get<{ Params: { branch: string; '*': string } }>('/repo/:branch/*', {
    config: { access: 'public' },
    schema: { summary: 'A branch apt repository: Packages, Packages.gz, Release and the .debs', tags: ['repository'] },
  }, async (request, reply) => {
    const { branch } = request.params;
    assertBranchName(branch);
    const name = request.params['*'].replace(/^(\.\/)+/, '');
    if (!repoFilePattern.test(name)) throw new AoinbError('NOT_FOUND', `repository ${branch} has no file ${JSON.stringify(name)}`);
    const file = path.join(ctx.layout.repoDir(branch), name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new AoinbError('NOT_FOUND', `repository ${branch} has no file ${name}`);
    const type = contentTypes[name] ?? (name.endsWith('.deb') ? 'application/vnd.debian.binary-package' : 'application/octet-stream');
    return reply
      .header('content-type', type)
      .header('content-length', info.size)
      .header('last-modified', info.mtime.toUTCString())
      .send(createReadStream(file));
  });
}
