import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AoinbError } from '@aoinb/errors';
import {
  CreateTaskBody,
  CreateTaskReply,
  DeleteTaskReply,
  IdParams,
  RetryTaskReply,
  routes,
  SetBranchBody,
  SetBranchReply,
  StartBuildBody,
  StartBuildReply,
  TaskList,
  TaskListQuery,
  TaskStatus,
} from '@aoinb/farm-contract';
import type { TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../../context.ts';
import { cancelTask } from '../../services/task-cancel.ts';
import { createTask, deleteTask, requireTask, retryTask, setBranch, startBuild } from '../../services/task-service.ts';
import { answerWithCreate } from '../../resilience/idempotency.ts';
import { principalOf, type Access } from '../auth.ts';
import { newestFirstPage } from '../newest-first-page.ts';
import { routeOptions } from '../route-schema.ts';
import { taskStatus, taskSummary } from '../views.ts';

/** Newest first, filtered by state, branch, arch and submitter. */
async function listTasks(
  ctx: CoordinatorContext,
  q: TaskListQuery,
): Promise<{ found: TaskRecord[]; next: string | null }> {
  return newestFirstPage({
    limit: q.limit ?? 50,
    before: q.before,
    filtered: Boolean(q.state || q.branch || q.arch || q.submitter),
    ids: (count, before) => ctx.store.listTaskIds(count, before),
    records: (ids) => ctx.store.getTasks(ids),
    keep: (task) =>
      (!q.state || task.state === q.state) &&
      (!q.branch || task.branch === q.branch) &&
      (!q.arch || task.archs.includes(q.arch)) &&
      (!q.submitter || task.createdBy === q.submitter),
  });
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
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    routes.tasks,
    routeOptions({
      summary: 'List tasks, newest first',
      tags: ['tasks'],
      access: 'any',
      querystring: TaskListQuery,
      ok: { 200: TaskList },
    }),
    async (request) => {
      const page = await listTasks(ctx, request.query);
      return { tasks: page.found.map(taskSummary), next: page.next };
    },
  );

  r.get(
    routes.taskStatus,
    routeOptions({
      summary: 'Task state, per-arch jobs, artifacts, resources, log URL',
      tags: ['tasks'],
      access: 'any',
      params: IdParams,
      ok: { 200: TaskStatus },
      errors: [404],
    }),
    async (request) => {
      const task = await requireTask(ctx, request.params.id);
      return taskStatus(baseUrl, task, await ctx.store.getBuilds(task.id, task.archs));
    },
  );
}

const maintainer: Access = ['maintainer'];

/** Changing (maintainers): create a task, set its branch. */
function taskSetupRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    routes.tasks,
    routeOptions({
      summary: 'Create a task; returns its id',
      description: 'The body may name the branch: `{"branch": "stable"}`.',
      tags: ['tasks'],
      access: maintainer,
      body: CreateTaskBody,
      ok: { 201: CreateTaskReply },
    }),
    async (request, reply) => {
      const branch = typeof request.body?.branch === 'string' ? request.body.branch : undefined;
      const hold = request.idempotency;
      const task = await createTask(ctx, principalOf(request), branch, (id) => answerWithCreate(hold, 201, { id }));
      return reply.status(201).send({ id: task.id });
    },
  );

  r.put(
    routes.taskBranch,
    routeOptions({
      summary: 'Set the branch (text/plain body, or JSON {"branch": ...})',
      tags: ['tasks'],
      access: maintainer,
      params: IdParams,
      body: SetBranchBody,
      ok: { 200: SetBranchReply },
      errors: [404, 409],
    }),
    async (request) => {
      const task = await setBranch(ctx, request.params.id, branchFrom(request.body));
      return { id: task.id, branch: task.branch ?? '' };
    },
  );
}

/** Changing (maintainers): queue a task's builds, cancel them. */
function taskRunRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const baseUrl = ctx.config.farm.coordinator.publicUrl;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.put(
    routes.taskBuild,
    routeOptions({
      summary: 'Validate the task and queue one job per target arch',
      tags: ['tasks'],
      access: maintainer,
      params: IdParams,
      body: StartBuildBody,
      ok: { 202: StartBuildReply },
      errors: [404, 409],
    }),
    async (request, reply) => {
      const body = request.body ?? {};
      const task = await startBuild(ctx, request.params.id, {
        archs: body.archs,
        timeoutSeconds: body.timeout_seconds,
        network: body.network,
        by: principalOf(request),
      });
      return reply.status(202).send({ id: task.id, state: task.state, archs: task.archs });
    },
  );

  r.post(
    routes.taskCancel,
    routeOptions({
      summary: 'Cancel: queued jobs at once, running ones within seconds',
      tags: ['tasks'],
      access: maintainer,
      params: IdParams,
      ok: { 202: TaskStatus },
      errors: [404, 409],
    }),
    async (request, reply) => {
      await cancelTask(ctx, request.params.id, principalOf(request));
      const task = await requireTask(ctx, request.params.id);
      return reply.status(202).send(taskStatus(baseUrl, task, await ctx.store.getBuilds(task.id, task.archs)));
    },
  );
}

/** Changing (maintainers): delete a task, run its failed or cancelled archs again. */
function taskAfterRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.delete(
    routes.task,
    routeOptions({
      summary:
        'Delete a task never built (state created), or a finished one (admin), with its bundle, logs and debs; ' +
        '409 while queued or running',
      tags: ['tasks'],
      access: maintainer,
      params: IdParams,
      ok: { 200: DeleteTaskReply },
      errors: [404, 409],
    }),
    async (request) => {
      await deleteTask(ctx, request.params.id, principalOf(request));
      return { id: request.params.id, state: 'deleted' as const };
    },
  );

  r.post(
    routes.taskRetry,
    routeOptions({
      summary: 'Run the failed or cancelled archs again (a new run)',
      tags: ['tasks'],
      access: maintainer,
      params: IdParams,
      ok: { 202: RetryTaskReply },
      errors: [404, 409, 410],
    }),
    async (request, reply) => {
      const task = await retryTask(ctx, request.params.id, principalOf(request));
      return reply.status(202).send({ id: task.id, state: task.state });
    },
  );
}

export function taskRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  taskQueryRoutes(app, ctx);
  taskSetupRoutes(app, ctx);
  taskRunRoutes(app, ctx);
  taskAfterRoutes(app, ctx);
}
