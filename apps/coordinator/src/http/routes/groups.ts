import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateGroupBody,
  CreateGroupReply,
  DeleteGroupReply,
  GroupList,
  GroupListQuery,
  GroupRepoParams,
  GroupStatus,
  IdParams,
  RetryGroupReply,
  routes,
} from '@aoinb/farm-contract';
import type { GroupRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { cancelGroup, requireGroup, retryGroup } from '../../groups/group-actions.ts';
import { createGroup, groupRequestFrom } from '../../groups/group-intake.ts';
import { deleteGroup } from '../../retention/delete-group.ts';
import { loadSnapshot } from '../../groups/group-snapshot.ts';
import { groupStatus, groupSummary } from '../../groups/group-view.ts';
import { principalOf, type Access } from '../auth.ts';
import { newestFirstPage } from '../newest-first-page.ts';
import { sendRepoFile } from '../repo-file.ts';
import { routeOptions } from '../route-schema.ts';

/** Newest first, filtered by state and branch. */
async function listGroups(ctx: CoordinatorContext, q: GroupListQuery) {
  return newestFirstPage<GroupRecord>({
    limit: q.limit ?? 50,
    before: q.before,
    filtered: Boolean(q.state || q.branch),
    ids: (count, before) => ctx.groups.store.listGroupIds(count, before),
    records: async (ids) => {
      const groups = new Map((await ctx.groups.store.getGroups(ids)).map((g) => [g.id, g]));
      return ids.map((id) => groups.get(id));
    },
    keep: (group) => (!q.state || group.state === q.state) && (!q.branch || group.branch === q.branch),
  });
}

async function statusOf(ctx: CoordinatorContext, id: string): Promise<GroupStatus> {
  const snap = await loadSnapshot(ctx, id);
  if (!snap) throw new AoinbError('NOT_FOUND', `group ${id} does not exist`);
  return groupStatus(ctx.config.farm.coordinator.publicUrl, snap);
}

const repoFile = {
  mediaType: 'application/octet-stream',
  description: 'the file (Packages, Packages.gz, by-hash/SHA256/<sha256>, Release, InRelease, a .deb, the key)',
};

const maintainer: Access = ['maintainer'];

/** Changing (maintainers): create and start a group, cancel it. */
function groupStartRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    routes.groups,
    routeOptions({
      summary: 'Create and start a group build of tasks that have a bundle and no build yet',
      tags: ['groups'],
      access: maintainer,
      body: CreateGroupBody,
      ok: { 201: CreateGroupReply },
      errors: [404, 409, 422],
    }),
    async (request, reply) => {
      const group = await createGroup(ctx, principalOf(request), groupRequestFrom(request.body));
      return reply.status(201).send({
        id: group.id,
        state: group.state,
        mode: group.mode,
        publish: group.publish,
        archs: group.archs,
        status_url: `${baseUrl}/group/${group.id}/status`,
      });
    },
  );

  r.post(
    routes.groupCancel,
    routeOptions({
      summary: 'Cancel a group: members not started at once, running builds within seconds',
      tags: ['groups'],
      access: maintainer,
      params: IdParams,
      ok: { 202: GroupStatus },
      errors: [404, 409],
    }),
    async (request, reply) => {
      await cancelGroup(ctx, request.params.id, principalOf(request));
      return reply.status(202).send(await statusOf(ctx, request.params.id));
    },
  );
}

/** Changing: delete a finished group (admins), run its failed members again (maintainers). */
function groupAfterRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.delete(
    routes.group,
    routeOptions({
      summary: 'Delete a finished group with its member tasks, logs, debs and repository (admin); 409 while it runs',
      tags: ['groups'],
      access: ['admin'],
      params: IdParams,
      ok: { 200: DeleteGroupReply },
      errors: [404, 409],
    }),
    async (request) => {
      await deleteGroup(ctx, request.params.id);
      return { id: request.params.id, state: 'deleted' as const };
    },
  );

  r.post(
    routes.groupRetry,
    routeOptions({
      summary: 'Run the failed, skipped and cancelled members again (a new round)',
      tags: ['groups'],
      access: maintainer,
      params: IdParams,
      ok: { 202: RetryGroupReply },
      errors: [404, 409, 410],
    }),
    async (request, reply) => {
      const again = await retryGroup(ctx, request.params.id);
      const group = await requireGroup(ctx, request.params.id);
      return reply.status(202).send({ id: group.id, state: group.state, round: again.round, members: again.members });
    },
  );
}

/** Reading (any token): the list of groups, a group's status. */
function groupQueryRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    routes.groups,
    routeOptions({
      summary: 'List groups, newest first',
      tags: ['groups'],
      access: 'any',
      querystring: GroupListQuery,
      ok: { 200: GroupList },
    }),
    async (request) => {
      const page = await listGroups(ctx, request.query);
      return { groups: page.found.map((g) => groupSummary(baseUrl, g)), next: page.next };
    },
  );

  r.get(
    routes.groupStatus,
    routeOptions({
      summary:
        'Group state and every member (task, package, arch): waiting (for what), queued, running, succeeded, ' +
        'failed, cancelled or skipped (because of what)',
      tags: ['groups'],
      access: 'any',
      params: IdParams,
      ok: { 200: GroupStatus },
      errors: [404],
    }),
    async (request) => statusOf(ctx, request.params.id),
  );
}

/** Public: each group's apt repository. */
function groupRepoRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    routes.groupRepo,
    routeOptions({
      summary:
        "A group's apt repository (its members' fresh debs): Packages(.gz), by-hash/SHA256/<sha256>, Release, " +
        'InRelease and the .debs',
      tags: ['groups', 'repository'],
      access: 'public',
      params: GroupRepoParams,
      ok: { 200: repoFile },
      errors: [404],
    }),
    async (request, reply) =>
      sendRepoFile(
        reply,
        ctx.layout.groupRepoDir(request.params.id),
        request.params['*'],
        `group ${request.params.id}'s repository`,
        (sha256) => ctx.groups.repo.byHash(request.params.id, sha256),
      ),
  );
}

/** Group builds: create, list, status, cancel, retry, and each group's apt repository. */
export function groupRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  groupQueryRoutes(app, ctx);
  groupRepoRoutes(app, ctx);
  groupStartRoutes(app, ctx);
  groupAfterRoutes(app, ctx);
}
