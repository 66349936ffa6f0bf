import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { assertBranchName } from '@aoinb/config';
import { ArchParams, RepoParams, RepublishBody, RepublishReply, routes } from '@aoinb/farm-contract';
import type { CoordinatorContext } from '../../context.ts';
import { republishBuild } from '../../repo/admin-republish.ts';
import { sendRepoFile } from '../repo-file.ts';
import { routeOptions } from '../route-schema.ts';

/**
 * `GET /repo/<branch>/<file>`: the branch's flat apt repository, public (apt in
 * a build container has no token), signed with the farm key served beside it:
 * `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] <public_url>/repo/<branch> ./`.
 */
export function repoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    routes.repo,
    routeOptions({
      summary: 'A branch apt repository: Packages, Packages.gz, Release and the .debs',
      tags: ['repository'],
      access: 'public',
      params: RepoParams,
      ok: { 200: { mediaType: 'application/octet-stream', description: 'the file' } },
      errors: [404],
    }),
    async (request, reply) => {
      const { branch } = request.params;
      assertBranchName(branch);
      return sendRepoFile(reply, ctx.layout.repoDir(branch), request.params['*'], `repository ${branch}`);
    },
  );

  r.post(
    routes.taskPublish,
    routeOptions({
      summary: "Admin: publish a build's debs to its branch again",
      description:
        '`{"replace": true}` replaces a listed same-version deb with other contents (else 409 REPO_CONFLICT).',
      tags: ['repository'],
      access: ['admin'],
      params: ArchParams,
      body: RepublishBody,
      ok: { 200: RepublishReply },
      errors: [404, 409],
    }),
    async (request) => {
      const outcome = await republishBuild(ctx, request.params.id, request.params.arch, request.body?.replace === true);
      return { branch: outcome.branch, added: outcome.added, unchanged: outcome.unchanged, replaced: outcome.replaced };
    },
  );
}
