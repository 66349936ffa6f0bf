/**
 * Critical-path priorities. A member's path length is its own expected
 * duration plus the longest path among the members waiting for it: the time
 * the group needs at least from the moment it starts. Members with longer
 * paths go first (BullMQ: lower priority number first), the classic
 * longest-path list schedule, which keeps the critical path moving while
 * short side branches fill the idle hosts.
 */
import type { EstimateSource, LearnedRequirement } from '@aoinb/farm-protocol';

/** BullMQ's largest priority (2^21 - 1); 1 is served first. */
export const lowestPriority = 2_097_151;

/** BullMQ priority of a member whose remaining path is `pathSeconds` long (one-second steps, up to ~24 days). */
export function priorityFor(pathSeconds: number): number {
  return Math.min(lowestPriority, Math.max(1, lowestPriority + 1 - Math.ceil(pathSeconds)));
}

function medianOf(values: number[] | undefined): number | undefined {
  const known = (values ?? []).filter((s) => Number.isFinite(s) && s >= 0).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const mid = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[mid] : ((known[mid - 1] as number) + (known[mid] as number)) / 2;
}

export interface Estimate {
  seconds: number;
  source: EstimateSource;
}

/**
 * A member's expected duration. First the learned requirement of its package and arch: the median
 * wall time of its last successful builds (CPU time is not a duration: a build on 8 cores spends up
 * to 8 s of it each second). Else the older duration history, else the configured default.
 */
export function estimateFrom(
  known: { learned?: LearnedRequirement; history?: number[] },
  defaultSeconds: number,
): Estimate {
  const learned = known.learned?.seconds ?? 0;
  if (learned > 0) return { seconds: Math.max(1, learned), source: 'learned' };
  const median = medianOf(known.history);
  if (median !== undefined) return { seconds: Math.max(1, median), source: 'history' };
  return { seconds: defaultSeconds, source: 'default' };
}

/**
 * Path length of every member, given a topological order (dependencies
 * first), each member's in-group dependencies and expected durations.
 */
export function pathLengths(
  order: string[],
  deps: Map<string, string[]>,
  estimate: Map<string, number>,
): Map<string, number> {
  const dependents = new Map<string, string[]>();
  for (const key of order) for (const d of deps.get(key) ?? []) dependents.set(d, [...(dependents.get(d) ?? []), key]);
  const path = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i -= 1) {
    const key = order[i] as string;
    const after = Math.max(0, ...(dependents.get(key) ?? []).map((d) => path.get(d) ?? 0));
    path.set(key, (estimate.get(key) ?? 0) + after);
  }
  return path;
}
