import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { GroupRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { cancelGroup, requireGroup, retryGroup } from '../../groups/group-actions.ts';
import { createGroup, groupRequestFrom } from '../../groups/group-intake.ts';
import { deleteGroup } from '../../retention/delete-group.ts';
import { loadSnapshot } from '../../groups/group-snapshot.ts';
import { groupStatus, groupSummary } from '../../groups/group-view.ts';
import { principalOf, type Access } from '../auth.ts';
import { sendRepoFile } from '../repo-file.ts';

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]+$' } },
  required: ['id'],
} as const;
const groupStates = ['queued', 'running', 'succeeded', 'failed', 'partial', 'cancelled'];

const createBody = {
  type: 'object',
  required: ['branch', 'tasks'],
  properties: {
    branch: { type: 'string', minLength: 1 },
    tasks: {
      type: 'array',
      minItems: 1,
      items: {
        anyOf: [
          { type: 'string', pattern: '^[0-9]+$' },
          { type: 'integer', minimum: 1 },
          {
            type: 'object',
            required: ['id'],
            properties: {
              id: { type: 'string', pattern: '^[0-9]+$' },
              archs: { type: 'array', items: { type: 'string' } },
            },
            additionalProperties: false,
          },
        ],
      },
    },
    mode: { type: 'string', enum: ['dag', 'sequential'] },
    publish: { type: 'string', enum: ['each', 'atomic'] },
    archs: { type: 'array', items: { type: 'string' } },
    timeout_seconds: { type: 'integer', minimum: 1 },
  },
  additionalProperties: false,
} as const;

interface ListQuery {
  state?: string;
  branch?: string;
  limit?: number;
  before?: string;
}

async function listGroups(
  ctx: CoordinatorContext,
  q: ListQuery,
): Promise<{ groups: GroupRecord[]; next: string | null }> {
  const limit = q.limit ?? 50;
  const found: GroupRecord[] = [];
  let cursor = q.before;
  let scanned = 0;
  while (found.length < limit && scanned < 5000) {
    const ids = await ctx.groups.store.listGroupIds(200, cursor);
    if (ids.length === 0) return { groups: found, next: null };
    const groups = new Map((await ctx.groups.store.getGroups(ids)).map((g) => [g.id, g]));
    for (const id of ids) {
      scanned += 1;
      cursor = id;
      const group = groups.get(id);
      if (!group || (q.state && group.state !== q.state) || (q.branch && group.branch !== q.branch)) continue;
      found.push(group);
      if (found.length === limit) break;
    }
  }
  return { groups: found, next: cursor ?? null };
}

async function statusOf(ctx: CoordinatorContext, id: string): Promise<Record<string, unknown>> {
  const snap = await loadSnapshot(ctx, id);
  if (!snap) throw new AoinbError('NOT_FOUND', `group ${id} does not exist`);
  return groupStatus(ctx.config.farm.coordinator.publicUrl, snap);
}

/** Changing: create, cancel, retry (maintainers). */
function groupCommandRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;
  const maintainer: Access = ['maintainer'];

  app.post(
    '/group',
    {
      config: { access: maintainer },
      schema: {
        summary: 'Create and start a group build of tasks that have a bundle and no build yet',
        tags: ['groups'],
        body: createBody,
      },
    },
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

  app.post<{ Params: { id: string } }>(
    '/group/:id/cancel',
    {
      config: { access: maintainer },
      schema: {
        summary: 'Cancel a group: members not started at once, running builds within seconds',
        tags: ['groups'],
        params: idParams,
      },
    },
    async (request, reply) => {
      await cancelGroup(ctx, request.params.id, principalOf(request));
      return reply.status(202).send(await statusOf(ctx, request.params.id));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/group/:id',
    {
      config: { access: ['admin'] },
      schema: {
        summary: 'Delete a finished group with its member tasks, logs, debs and repository (admin); 409 while it runs',
        tags: ['groups'],
        params: idParams,
      },
    },
    async (request) => {
      await deleteGroup(ctx, request.params.id);
      return { id: request.params.id, state: 'deleted' };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/group/:id/retry',
    {
      config: { access: maintainer },
      schema: {
        summary: 'Run the failed, skipped and cancelled members again (a new round)',
        tags: ['groups'],
        params: idParams,
      },
    },
    async (request, reply) => {
      const again = await retryGroup(ctx, request.params.id);
      const group = await requireGroup(ctx, request.params.id);
      return reply.status(202).send({ id: group.id, state: group.state, round: again.round, members: again.members });
    },
  );
}

/** Reading: the list, a group's status (any token) and its apt repository (public). */
function groupQueryRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;

  app.get<{ Querystring: ListQuery }>(
    '/group',
    {
      schema: {
        summary: 'List groups, newest first',
        tags: ['groups'],
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: groupStates },
            branch: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
            before: { type: 'string', pattern: '^[0-9]+$' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const page = await listGroups(ctx, request.query);
      return { groups: page.groups.map((g) => groupSummary(baseUrl, g)), next: page.next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/group/:id/status',
    {
      schema: {
        summary:
          'Group state and every member (task, package, arch): waiting (for what), queued, running, succeeded, failed, cancelled or skipped (because of what)',
        tags: ['groups'],
        params: idParams,
      },
    },
    async (request) => statusOf(ctx, request.params.id),
  );

  app.get<{ Params: { id: string; '*': string } }>(
    '/group/:id/repo/*',
    {
      config: { access: 'public' },
      schema: {
        summary:
          "A group's apt repository (its members' fresh debs): Packages(.gz), by-hash/SHA256/<sha256>, Release, InRelease and the .debs",
        tags: ['groups', 'repository'],
        params: {
          type: 'object',
          properties: { id: { type: 'string', pattern: '^[0-9]+$' }, '*': { type: 'string' } },
        },
      },
    },
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
  groupCommandRoutes(app, ctx);
}
