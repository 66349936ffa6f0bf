import type { FastifyInstance } from 'fastify';
import { assertBranchName } from '@aoinb/config';
import type { CoordinatorContext } from '../../context.ts';
import { sendRepoFile } from '../repo-file.ts';

/**
 * `GET /repo/<branch>/<file>`: the branch's flat apt repository, public (apt in
 * a build container has no token), signed with the farm key served beside it:
 * `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] <public_url>/repo/<branch> ./`.
 */
export function repoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get<{ Params: { branch: string; '*': string } }>('/repo/:branch/*', {
    config: { access: 'public' },
    schema: { summary: 'A branch apt repository: Packages, Packages.gz, Release and the .debs', tags: ['repository'] },
  }, async (request, reply) => {
    const { branch } = request.params;
    assertBranchName(branch);
    return sendRepoFile(reply, ctx.layout.repoDir(branch), request.params['*'], `repository ${branch}`);
  });
}
