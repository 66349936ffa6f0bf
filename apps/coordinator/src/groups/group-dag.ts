import { AoinbError } from '@aoinb/errors';

/** One member of a group for the DAG: one arch of one task, with what its bundle provides and needs on that arch. */
export interface DagNode {
  /** `<taskId>/<arch>`. */
  key: string;
  taskId: string;
  arch: string;
  /** The bundle's main PKGNAME (names the member in messages). */
  package: string;
  /** Built once (ABHOST=noarch) and installable on every arch: it provides to the members of every arch. */
  noarch: boolean;
  /** PKGNAME and PKGPROV of every package of the bundle, for this arch. */
  provides: string[];
  /** BUILDDEP and PKGDEP names for this arch (`__ARCH` overrides resolved), minus what the bundle provides itself. */
  depends: string[];
}

/** Why one member waits for another: the dependency name that the other provides. */
export interface DagEdge {
  from: string;
  to: string;
  name: string;
}

/** `foo:native` and `foo` name the same package for ordering. */
function baseName(name: string): string {
  return name.replace(/:.*$/, '');
}

/**
 * In-group dependencies: member X waits for member Y when a BUILDDEP or
 * PKGDEP name of X is a PKGNAME or PKGPROV of Y, Y builds on X's arch or is
 * noarch. Returns, per member key, its edges in the input order.
 */
export function groupEdges(nodes: DagNode[]): Map<string, DagEdge[]> {
  const providers = new Map<string, DagNode[]>();
  for (const node of nodes) {
    for (const name of node.provides) {
      const list = providers.get(baseName(name)) ?? [];
      list.push(node);
      providers.set(baseName(name), list);
    }
  }
  const edges = new Map<string, DagEdge[]>();
  for (const node of nodes) {
    const out: DagEdge[] = [];
    for (const name of node.depends) {
      for (const provider of providers.get(baseName(name)) ?? []) {
        if (provider.key === node.key || provider.taskId === node.taskId) continue;
        if (provider.arch !== node.arch && !provider.noarch) continue;
        if (!out.some((e) => e.to === provider.key)) out.push({ from: node.key, to: provider.key, name });
      }
    }
    edges.set(node.key, out);
  }
  return edges;
}

/** One cycle among `keys` (each of which is on a cycle or leads to one), as edges in order. */
function findCycle(keys: Set<string>, edges: Map<string, DagEdge[]>): DagEdge[] {
  const start = [...keys][0] as string;
  const path: DagEdge[] = [];
  const seenAt = new Map<string, number>([[start, 0]]);
  let at = start;
  for (;;) {
    const next = (edges.get(at) ?? []).find((e) => keys.has(e.to)) as DagEdge;
    path.push(next);
    const loopStart = seenAt.get(next.to);
    if (loopStart !== undefined) return path.slice(loopStart);
    seenAt.set(next.to, path.length);
    at = next.to;
  }
}

function describeCycle(cycle: DagEdge[], byKey: Map<string, DagNode>): string {
  const name = (key: string): string => {
    const n = byKey.get(key) as DagNode;
    return `${n.package} (task ${n.taskId}, ${n.arch})`;
  };
  const steps = cycle.map((e) => `${name(e.from)} needs ${e.name}`);
  return `${steps.join(' -> ')} -> ${name(cycle[0]!.from)}`;
}

/**
 * A topological order of the members (dependencies first; among members free
 * at the same time, input order). A cycle is a DEPENDENCY_CYCLE error that
 * names it.
 */
export function topologicalOrder(nodes: DagNode[], edges: Map<string, DagEdge[]>): string[] {
  const pending = new Map(nodes.map((n) => [n.key, (edges.get(n.key) ?? []).length]));
  const dependents = new Map<string, string[]>();
  for (const [from, list] of edges) for (const e of list) dependents.set(e.to, [...(dependents.get(e.to) ?? []), from]);
  const index = new Map(nodes.map((n, i) => [n.key, i]));
  const ready = nodes.filter((n) => pending.get(n.key) === 0).map((n) => n.key);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (index.get(a) ?? 0) - (index.get(b) ?? 0));
    const key = ready.shift() as string;
    order.push(key);
    for (const d of dependents.get(key) ?? []) {
      const left = (pending.get(d) ?? 0) - 1;
      pending.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (order.length < nodes.length) {
    const stuck = new Set(nodes.map((n) => n.key).filter((k) => !order.includes(k)));
    const cycle = findCycle(stuck, edges);
    const byKey = new Map(nodes.map((n) => [n.key, n]));
    throw new AoinbError('DEPENDENCY_CYCLE', `the group's dependencies form a cycle: ${describeCycle(cycle, byKey)}`);
  }
  return order;
}
