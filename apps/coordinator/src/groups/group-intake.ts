import { assertBranchName, sourceListFor } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import {
  type GroupMode,
  type GroupRecord,
  type MemberRecord,
  type PublishMode,
  type TaskRecord,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext, Principal } from '../context.ts';
import { assertNetworkAllowed } from '../services/network-policy.ts';
import { requireTask } from '../services/task-service.ts';
import { advanceGroup } from './group-advance.ts';
import { addRoundParent } from './group-jobs.ts';
import { buildPlan, estimateSourcesOf, loadDagNodes, memberEstimates, type MemberSource } from './group-plan.ts';

export interface GroupRequest {
  branch: string;
  /** Task ids, or `{id, archs, network}` to build a task on some of its archs only, or with a network. */
  tasks: Array<string | { id: string; archs?: string[]; network?: boolean }>;
  mode?: GroupMode;
  publish?: PublishMode;
  /** Build every member on these archs only (those its filters allow). */
  archs?: string[];
  timeoutSeconds?: number;
  /** Every member's builds get a network (a member's own `network` overrides it). */
  network?: boolean;
}

const maxMembers = 5000;

interface Entry {
  task: TaskRecord;
  archs: string[];
  network: boolean;
}

/** The archs a task builds on in the group: its bundle's targets on this farm, narrowed by the request. */
function memberArchs(ctx: CoordinatorContext, task: TaskRecord, wanted: string[] | undefined): string[] {
  const bundle = task.bundle!;
  const targets = bundle.targets.filter((a) => ctx.dispatcher.archs.includes(a));
  const archs = wanted ? targets.filter((a) => wanted.includes(a) || (bundle.noarch && wanted.length > 0)) : targets;
  if (archs.length === 0) {
    throw new AoinbError(
      'ARCH_NOT_ALLOWED',
      `task ${task.id} (${bundle.packageName}): its FAIL_ARCH/ALLOW_ARCH filters ` +
        `allow ${targets.join(', ') || "none of this farm's archs"}${wanted ? `, none of ${wanted.join(', ')}` : ''}`,
    );
  }
  return archs;
}

async function readEntries(ctx: CoordinatorContext, req: GroupRequest): Promise<Entry[]> {
  if (!Array.isArray(req.tasks) || req.tasks.length === 0)
    throw new AoinbError('USAGE', 'a group needs "tasks": a list of task ids');
  if (req.tasks.length > maxMembers)
    throw new AoinbError('USAGE', `a group has at most ${maxMembers} tasks, got ${req.tasks.length}`);
  const seen = new Set<string>();
  const entries: Entry[] = [];
  for (const item of req.tasks) {
    const id = typeof item === 'string' ? item : item.id;
    if (seen.has(id)) throw new AoinbError('USAGE', `task ${id} is listed twice`);
    seen.add(id);
    const task = await requireTask(ctx, id);
    if (task.groupId) throw new AoinbError('CONFLICT', `task ${id} already belongs to group ${task.groupId}`);
    if (task.state !== 'created')
      throw new AoinbError(
        'CONFLICT',
        `task ${id} is ${task.state}: a group takes tasks that have a bundle and no build yet`,
      );
    if (!task.bundle)
      throw new AoinbError('CONFLICT', `task ${id} has no bundle yet: PUT /task/${id}/build_bundle first`);
    if (task.branch && task.branch !== req.branch)
      throw new AoinbError('CONFLICT', `task ${id} is for branch ${task.branch}, the group for ${req.branch}`);
    const wanted = typeof item === 'string' ? req.archs : (item.archs ?? req.archs);
    const network = (typeof item === 'string' ? undefined : item.network) ?? req.network ?? false;
    entries.push({ task, archs: memberArchs(ctx, task, wanted), network });
  }
  return entries;
}

/** The members' DAG from their bundles, with critical-path priorities from the build time estimates. */
async function planMembers(ctx: CoordinatorContext, entries: Entry[]) {
  const sources: MemberSource[] = entries.flatMap(({ task, archs }) =>
    archs.map((arch) => ({
      taskId: task.id,
      arch,
      package: task.bundle!.packageName,
      noarch: task.bundle!.noarch,
      bundleDir: ctx.layout.bundleDir(task.id),
    })),
  );
  const nodes = await loadDagNodes(sources);
  const defaultSeconds = ctx.config.farm.coordinator.groupDefaultBuildSeconds;
  const estimates = await memberEstimates(estimateSourcesOf(ctx), defaultSeconds, nodes);
  return buildPlan(nodes, estimates);
}

/** The new group's record: queued, round 1, over the archs its plan builds for. */
function groupRecordOf(
  id: string,
  by: Principal,
  req: GroupRequest,
  entries: Entry[],
  plan: Array<{ arch: string }>,
  now: string,
): GroupRecord {
  return {
    id,
    state: 'queued',
    branch: req.branch,
    mode: req.mode ?? 'dag',
    publish: req.publish ?? 'each',
    taskIds: entries.map((e) => e.task.id),
    archs: [...new Set(plan.map((m) => m.arch))].sort(),
    round: 1,
    createdBy: by.name,
    createdAt: now,
    updatedAt: now,
    cancelRequested: false,
  };
}

/**
 * `POST /group`: checks the tasks, reads every member's bundle for its archs,
 * plans the DAG (a cycle is DEPENDENCY_CYCLE, naming it) with critical-path
 * priorities, writes the group and claims its tasks in one step, creates the
 * group's apt repository, adds the first round's parent job, and releases the
 * members that wait for nothing.
 */
export async function createGroup(ctx: CoordinatorContext, by: Principal, req: GroupRequest): Promise<GroupRecord> {
  assertBranchName(req.branch);
  await sourceListFor(ctx.config, req.branch);
  const entries = await readEntries(ctx, req);
  await markNetworkMembers(ctx, by, entries);
  const plan = await planMembers(ctx, entries);
  const now = new Date().toISOString();
  const id = await ctx.groups.store.nextGroupId();
  const record = groupRecordOf(id, by, req, entries, plan, now);
  const coordinator = ctx.config.farm.coordinator;
  const members: Record<string, MemberRecord> = Object.fromEntries(
    plan.map((m) => [m.key, { phase: 'waiting', round: 1, run: 1, at: now } satisfies MemberRecord]),
  );
  const limitMs = coordinator.jobTimeoutMinutes * 60_000;
  const timeoutMs = req.timeoutSeconds ? Math.min(req.timeoutSeconds * 1000, limitMs) : limitMs;
  const created = await ctx.groups.store.createGroup({
    record,
    plan,
    members,
    tasks: entries.map((e) => ({ id: e.task.id, archs: e.archs })),
    timeoutMs,
  });
  if (!created.ok) throw new AoinbError('CONFLICT', `task ${created.taskId} ${created.problem}`);
  ctx.logger.info({ groupId: id, members: plan.length, mode: record.mode, publish: record.publish }, 'group created');
  // The group's repository exists (an empty index) before any member's apt-get update asks for it.
  await ctx.groups.repo.ensure(id);
  await addRoundParent(ctx, record);
  await advanceGroup(ctx, id);
  return (await ctx.groups.store.getGroup(id)) ?? record;
}

/**
 * Writes each member task's `network` (asked or not, so nothing stale stays) while the
 * tasks are still `created`, after the policy allowed the token to ask; the group's
 * create then claims them. Member jobs read it from the task (jobDataFor).
 */
async function markNetworkMembers(ctx: CoordinatorContext, by: Principal, entries: Entry[]): Promise<void> {
  const asking = entries.filter((e) => e.network).map((e) => e.task.id);
  if (asking.length > 0)
    assertNetworkAllowed(ctx.config.farm.coordinator.networkBuilds, by, `the group's tasks ${asking.join(', ')}`);
  for (const { task, network } of entries) {
    if (network === (task.network === true)) continue;
    const outcome = await ctx.store.updateTask(task.id, ['created'], { network });
    if (!outcome.done) throw new AoinbError('CONFLICT', `task ${task.id} changed state meanwhile (${outcome.state})`);
  }
}

/** Checks and normalises the JSON body of `POST /group`. */
export function groupRequestFrom(body: unknown): GroupRequest {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (typeof b.branch !== 'string' || !b.branch) throw new AoinbError('USAGE', 'a group needs "branch"');
  const mode = b.mode ?? 'dag';
  if (mode !== 'dag' && mode !== 'sequential')
    throw new AoinbError('USAGE', `"mode" is "dag" or "sequential", got ${JSON.stringify(mode)}`);
  const publish = b.publish ?? 'each';
  if (publish !== 'each' && publish !== 'atomic')
    throw new AoinbError('USAGE', `"publish" is "each" or "atomic", got ${JSON.stringify(publish)}`);
  const tasks = (Array.isArray(b.tasks) ? (b.tasks as unknown[]) : []).map((t) => {
    if (typeof t === 'number' || typeof t === 'string') return String(t);
    // The route's schema checked the object form: {id, archs?, network?}.
    if (t && typeof t === 'object') return t as { id: string; archs?: string[]; network?: boolean };
    throw new AoinbError('USAGE', `"tasks" lists task ids, got ${JSON.stringify(t)}`);
  });
  return {
    branch: b.branch,
    tasks,
    mode,
    publish,
    ...(Array.isArray(b.archs) ? { archs: b.archs as string[] } : {}),
    ...(typeof b.timeout_seconds === 'number' ? { timeoutSeconds: b.timeout_seconds } : {}),
    ...(typeof b.network === 'boolean' ? { network: b.network } : {}),
  };
}
