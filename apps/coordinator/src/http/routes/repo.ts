import type { FastifyInstance } from 'fastify';
import { assertBranchName } from '@aoinb/config';
import type { CoordinatorContext } from '../../context.ts';
import { republishBuild } from '../../repo/admin-republish.ts';
import { sendRepoFile } from '../repo-file.ts';

/**
 * `GET /repo/<branch>/<file>`: the branch's flat apt repository, public (apt in
 * a build container has no token), signed with the farm key served beside it:
 * `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] <public_url>/repo/<branch> ./`.
 */
export function repoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get<{ Params: { branch: string; '*': string } }>(
    '/repo/:branch/*',
    {
      config: { access: 'public' },
      schema: {
        summary: 'A branch apt repository: Packages(.gz), by-hash/SHA256/<sha256>, Release, InRelease and the .debs',
        tags: ['repository'],
      },
    },
    async (request, reply) => {
      const { branch } = request.params;
      assertBranchName(branch);
      return sendRepoFile(reply, ctx.layout.repoDir(branch), request.params['*'], `repository ${branch}`, (sha256) =>
        ctx.repo.byHash(branch, sha256),
      );
    },
  );

  app.post<{ Params: { id: string; arch: string }; Body: { replace?: boolean } | undefined }>(
    '/task/:id/publish/:arch',
    {
      config: { access: ['admin'] },
      schema: {
        summary:
          'Admin: publish a build\'s debs to its branch again; {"replace": true} replaces a listed same-version deb with other contents',
        tags: ['repository'],
        body: {
          type: 'object',
          properties: { replace: { type: 'boolean' } },
          additionalProperties: false,
          nullable: true,
        },
      },
    },
    async (request) => {
      const outcome = await republishBuild(ctx, request.params.id, request.params.arch, request.body?.replace === true);
      return { branch: outcome.branch, added: outcome.added, unchanged: outcome.unchanged, replaced: outcome.replaced };
    },
  );
}
