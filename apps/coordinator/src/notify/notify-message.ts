import { randomUUID } from 'node:crypto';
import type { NotifyEvent } from '@aoinb/config';
import type { BuilderStatus } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { loadSnapshot } from '../groups/group-snapshot.ts';
import { groupStatus } from '../groups/group-view.ts';
import { builderView, taskStatus } from '../http/views.ts';

/**
 * The JSON body every webhook receives (docs/notifications.md): the event, a
 * delivery id (the same on every retry: receivers dedupe by it), when it
 * happened, a link for people, and the object as the HTTP API shows it.
 */
export interface NotifyMessage {
  event: NotifyEvent | 'test';
  delivery: string;
  occurred_at: string;
  farm: string;
  /** A page for people: the dashboard's page of the task, group or builders. */
  url: string;
  /** One line for chat messages. */
  summary: string;
  task?: Record<string, unknown>;
  group?: Record<string, unknown>;
  builder?: Record<string, unknown>;
}

const finalTask = new Set(['succeeded', 'failed', 'cancelled']);
const finalGroup = new Set(['succeeded', 'failed', 'partial', 'cancelled']);

function base(
  ctx: CoordinatorContext,
  event: NotifyMessage['event'],
  at: string,
  route: string,
  summary: string,
): NotifyMessage {
  const farm = ctx.config.farm.coordinator.publicUrl;
  return { event, delivery: randomUUID(), occurred_at: at, farm, url: `${farm}/#${route}`, summary };
}

/** A task reached a final state: its status without the resource samples (they can be large). */
export async function taskFinishedMessage(
  ctx: CoordinatorContext,
  taskId: string,
  at: string,
): Promise<NotifyMessage | undefined> {
  const task = await ctx.store.getTask(taskId);
  if (!task || !finalTask.has(task.state)) return undefined;
  const status = taskStatus(
    ctx.config.farm.coordinator.publicUrl,
    task,
    await ctx.store.getBuilds(task.id, task.archs),
  );
  const jobs = (status.jobs as Array<Record<string, unknown>>).map(({ resources: _resources, ...job }) => job);
  const name = task.bundle ? `${task.bundle.packageName} ${task.bundle.version}` : `task ${task.id}`;
  const reason = typeof status.reason === 'string' && status.reason ? `: ${status.reason}` : '';
  return {
    ...base(
      ctx,
      'task_finished',
      at,
      `/task/${task.id}`,
      `Task ${task.id} (${name}, ${task.branch ?? 'no branch'}) ${task.state}${reason}`,
    ),
    task: { ...status, jobs },
  };
}

/** A group ended: its fields, counts and every member's state and reason. */
export async function groupFinishedMessage(
  ctx: CoordinatorContext,
  groupId: string,
  at: string,
): Promise<NotifyMessage | undefined> {
  const snap = await loadSnapshot(ctx, groupId);
  if (!snap || !finalGroup.has(snap.group.state)) return undefined;
  const status = groupStatus(ctx.config.farm.coordinator.publicUrl, snap);
  const members = (status.members as Array<Record<string, unknown>>).map((m) => ({
    task_id: m.task_id,
    package: m.package,
    arch: m.arch,
    state: m.state,
    reason: m.reason,
    skipped_because: m.skipped_because,
  }));
  const counts = Object.entries(status.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return {
    ...base(
      ctx,
      'group_finished',
      at,
      `/group/${groupId}`,
      `Group ${groupId} (${snap.group.branch}) ${snap.group.state}: ${counts}`,
    ),
    group: { ...status, members },
  };
}

export function builderOfflineMessage(
  ctx: CoordinatorContext,
  builder: BuilderStatus,
  lastFacts: Record<string, unknown> | undefined,
): NotifyMessage {
  const view = { ...(lastFacts ?? {}), ...builderView(builder), arch_tags: lastFacts?.arch_tags ?? [] };
  return {
    ...base(
      ctx,
      'builder_offline',
      new Date().toISOString(),
      '/builders',
      `Builder ${builder.id} went offline (last heartbeat ${builder.lastHeartbeat})`,
    ),
    builder: view,
  };
}

export function testMessage(ctx: CoordinatorContext, by: string): NotifyMessage {
  return {
    ...base(ctx, 'test', new Date().toISOString(), '/tasks', `Test message from the aoinb coordinator, sent by ${by}`),
  };
}
