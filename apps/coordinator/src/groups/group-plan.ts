import { loadBundle } from '@aoinb/bundle';
import type { GroupMemberPlan, GroupStore } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { LearnedStore } from '../placement/learned-requirements.ts';
import { estimateFrom, pathLengths, priorityFor, type Estimate } from './critical-path.ts';
import { groupEdges, topologicalOrder, type DagNode } from './group-dag.ts';

export interface MemberSource {
  taskId: string;
  arch: string;
  package: string;
  noarch: boolean;
  /** The task's extracted bundle. */
  bundleDir: string;
}

/** Reads each member's bundle for its arch (BUILDDEP/PKGDEP with `__ARCH` overrides, PKGNAME/PKGPROV). */
export async function loadDagNodes(members: MemberSource[]): Promise<DagNode[]> {
  const nodes: DagNode[] = [];
  for (const m of members) {
    const bundle = await loadBundle(m.bundleDir, m.arch);
    nodes.push({
      key: `${m.taskId}/${m.arch}`,
      taskId: m.taskId,
      arch: m.arch,
      package: m.package,
      noarch: m.noarch,
      provides: bundle.provides,
      depends: bundle.dependencyNames,
    });
  }
  return nodes;
}

export type Estimates = Map<string, Estimate>;

/** Where earlier builds are recorded: learned requirements, and the older duration history. */
export interface EstimateSources {
  learned: LearnedStore;
  history: GroupStore;
}

export function estimateSourcesOf(ctx: Pick<CoordinatorContext, 'redis' | 'keys' | 'groups'>): EstimateSources {
  return { learned: new LearnedStore(ctx.redis, ctx.keys), history: ctx.groups.store };
}

/** Expected durations: earlier builds of the same package and arch (learned, else history), else the default. */
export async function memberEstimates(
  sources: EstimateSources,
  defaultSeconds: number,
  members: Array<{ key: string; package: string; arch: string }>,
): Promise<Estimates> {
  const [learned, history] = await Promise.all([
    sources.learned.many(members.map((m) => ({ pkg: m.package, arch: m.arch }))),
    sources.history.durations([...new Set(members.map((m) => `${m.package}/${m.arch}`))]),
  ]);
  return new Map(
    members.map((m) => {
      const field = `${m.package}/${m.arch}`;
      return [m.key, estimateFrom({ learned: learned.get(field), history: history.get(field) }, defaultSeconds)];
    }),
  );
}

/**
 * The group's plan: members in topological order with their in-group
 * dependencies, expected durations, critical-path lengths and priorities.
 * Throws DEPENDENCY_CYCLE naming the cycle.
 */
export function buildPlan(nodes: DagNode[], estimates: Estimates): GroupMemberPlan[] {
  const edges = groupEdges(nodes);
  const order = topologicalOrder(nodes, edges);
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const plan = order.map((key): GroupMemberPlan => {
    const n = byKey.get(key) as DagNode;
    const estimate: Estimate = estimates.get(key) ?? { seconds: 1, source: 'default' };
    return {
      key,
      taskId: n.taskId,
      arch: n.arch,
      package: n.package,
      deps: (edges.get(key) ?? []).map((e) => e.to),
      estimateSeconds: estimate.seconds,
      estimateKnown: estimate.source !== 'default',
      estimateSource: estimate.source,
      pathSeconds: 0,
      priority: 0,
    };
  });
  return reprioritize(plan, new Set(order), estimates);
}

/**
 * Recomputes path lengths and priorities over the members in `keys` (a retry
 * reruns some of them; the others already ended and are left as they were).
 */
export function reprioritize(plan: GroupMemberPlan[], keys: Set<string>, estimates?: Estimates): GroupMemberPlan[] {
  const order = plan.filter((m) => keys.has(m.key)).map((m) => m.key);
  const deps = new Map(plan.map((m) => [m.key, m.deps.filter((d) => keys.has(d))]));
  const estimate = new Map(plan.map((m) => [m.key, estimates?.get(m.key)?.seconds ?? m.estimateSeconds]));
  const paths = pathLengths(order, deps, estimate);
  return plan.map((m) => {
    if (!keys.has(m.key)) return m;
    const source = estimates?.get(m.key)?.source ?? m.estimateSource;
    const pathSeconds = paths.get(m.key) ?? 0;
    return {
      ...m,
      estimateSeconds: estimate.get(m.key) ?? m.estimateSeconds,
      estimateKnown: source ? source !== 'default' : m.estimateKnown,
      ...(source ? { estimateSource: source } : {}),
      pathSeconds,
      priority: priorityFor(pathSeconds),
    };
  });
}

export function depsOf(plan: GroupMemberPlan[]): Map<string, string[]> {
  return new Map(plan.map((m) => [m.key, m.deps]));
}
