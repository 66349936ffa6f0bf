import type { FastifyInstance } from 'fastify';
import { AoinbError } from '@aoinb/errors';
import type { TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import {
  cancelTask,
  createTask,
  deleteTask,
  requireTask,
  retryTask,
  setBranch,
  startBuild,
} from '../../services/task-service.ts';
import { principalOf, type Access } from '../auth.ts';
import { taskStatus, taskSummary } from '../views.ts';

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]+$' } },
  required: ['id'],
} as const;
const taskStates = ['created', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];

interface ListQuery {
  state?: string;
  branch?: string;
  arch?: string;
  submitter?: string;
  limit?: number;
  before?: string;
}

/** Newest first; filters applied while scanning, at most `maxScan` tasks per page. */
async function listTasks(ctx: CoordinatorContext, q: ListQuery): Promise<{ tasks: TaskRecord[]; next: string | null }> {
  const limit = q.limit ?? 50;
  const maxScan = 5000;
  const found: TaskRecord[] = [];
  let cursor = q.before;
  let scanned = 0;
  let exhausted = false;
  // Unfiltered, every task read is shown: read a page's worth, not 200 to show 50 (a dashboard polls this).
  const filtered = Boolean(q.state || q.branch || q.arch || q.submitter);
  while (found.length < limit && scanned < maxScan) {
    const ids = await ctx.store.listTaskIds(filtered ? 200 : limit - found.length, cursor);
    if (ids.length === 0) {
      exhausted = true;
      break;
    }
    for (const task of await ctx.store.getTasks(ids)) {
      scanned += 1;
      cursor = task?.id ?? cursor;
      if (!task) continue;
      if (
        (q.state && task.state !== q.state) ||
        (q.branch && task.branch !== q.branch) ||
        (q.arch && !task.archs.includes(q.arch)) ||
        (q.submitter && task.createdBy !== q.submitter)
      )
        continue;
      found.push(task);
      if (found.length === limit) break;
    }
  }
  return { tasks: found, next: exhausted || !cursor ? null : cursor };
}

/** The branch from a text body or `{"branch": ...}`. */
function branchFrom(body: unknown): string {
  if (typeof body === 'string') return body.trim();
  if (body && typeof body === 'object' && typeof (body as { branch?: unknown }).branch === 'string')
    return (body as { branch: string }).branch.trim();
  throw new AoinbError('USAGE', 'the body must be the branch name as text/plain, or JSON {"branch": "..."}');
}

/** Reading: the task list and one task's status (any valid token). */
function taskQueryRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;
  app.get<{ Querystring: ListQuery }>(
    '/task',
    {
      schema: {
        summary: 'List tasks, newest first',
        tags: ['tasks'],
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: taskStates },
            branch: { type: 'string' },
            arch: { type: 'string' },
            submitter: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
            before: { type: 'string', pattern: '^[0-9]+$' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const page = await listTasks(ctx, request.query);
      return { tasks: page.tasks.map(taskSummary), next: page.next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/task/:id/status',
    {
      schema: {
        summary: 'Task state, per-arch jobs, artifacts, resources, log URL',
        tags: ['tasks'],
        params: idParams,
      },
    },
    async (request) => {
      const task = await requireTask(ctx, request.params.id);
      return taskStatus(baseUrl, task, await ctx.store.getBuilds(task.id, task.archs));
    },
  );
}

/** Changing: create, set branch, build, cancel, retry (maintainers). */
function taskCommandRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;
  const maintainer: Access = ['maintainer'];

  app.post<{ Body: { branch?: string } | undefined }>(
    '/task',
    {
      config: { access: maintainer },
      schema: { summary: 'Create a task; returns its id', tags: ['tasks'] },
    },
    async (request, reply) => {
      const body = request.body;
      const branch = body && typeof body === 'object' && typeof body.branch === 'string' ? body.branch : undefined;
      const task = await createTask(ctx, principalOf(request), branch);
      return reply.status(201).send({ id: task.id });
    },
  );

  app.put<{ Params: { id: string } }>(
    '/task/:id/branch',
    {
      config: { access: maintainer },
      schema: {
        summary: 'Set the branch (text/plain body, or JSON {"branch": ...})',
        tags: ['tasks'],
        params: idParams,
      },
    },
    async (request) => {
      const task = await setBranch(ctx, request.params.id, branchFrom(request.body));
      return { id: task.id, branch: task.branch };
    },
  );

  app.put<{ Params: { id: string }; Body: { archs?: string[]; timeout_seconds?: number } | undefined }>(
    '/task/:id/build',
    {
      config: { access: maintainer },
      schema: {
        summary: 'Validate the task and queue one job per target arch',
        tags: ['tasks'],
        params: idParams,
        body: buildBody,
      },
    },
    async (request, reply) => {
      const body = request.body && typeof request.body === 'object' ? request.body : {};
      const task = await startBuild(ctx, request.params.id, {
        archs: body.archs,
        timeoutSeconds: body.timeout_seconds,
      });
      return reply.status(202).send({ id: task.id, state: task.state, archs: task.archs });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/task/:id/cancel',
    {
      config: { access: maintainer },
      schema: {
        summary: 'Cancel: queued jobs at once, running ones within seconds',
        tags: ['tasks'],
        params: idParams,
      },
    },
    async (request, reply) => {
      await cancelTask(ctx, request.params.id, principalOf(request));
      const task = await requireTask(ctx, request.params.id);
      return reply.status(202).send(taskStatus(baseUrl, task, await ctx.store.getBuilds(task.id, task.archs)));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/task/:id',
    {
      config: { access: maintainer },
      schema: {
        summary:
          'Delete a task never built (state created), or a finished one (admin), with its bundle, logs and debs; 409 while queued or running',
        tags: ['tasks'],
        params: idParams,
      },
    },
    async (request) => {
      await deleteTask(ctx, request.params.id, principalOf(request));
      return { id: request.params.id, state: 'deleted' };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/task/:id/retry',
    {
      config: { access: maintainer },
      schema: { summary: 'Run the failed or cancelled archs again (a new run)', tags: ['tasks'], params: idParams },
    },
    async (request, reply) => {
      const task = await retryTask(ctx, request.params.id);
      return reply.status(202).send({ id: task.id, state: task.state });
    },
  );
}

/** Bounded: at most a week per job, the archs a farm could have. */
export const maxTimeoutSeconds = 7 * 24 * 3600;
const buildBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    archs: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z0-9][a-z0-9_]{0,31}$' },
    },
    timeout_seconds: { type: 'integer', minimum: 1, maximum: maxTimeoutSeconds },
  },
} as const;

export function taskRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  taskQueryRoutes(app, ctx);
  taskCommandRoutes(app, ctx);
}
