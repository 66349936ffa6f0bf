/**
 * Critical-path priorities. A member's path length is its own expected
 * duration plus the longest path among the members waiting for it: the time
 * the group needs at least from the moment it starts. Members with longer
 * paths go first (BullMQ: lower priority number first), the classic
 * longest-path list schedule, which keeps the critical path moving while
 * short side branches fill the idle hosts.
 */

/** BullMQ's largest priority (2^21 - 1); 1 is served first. */
export const lowestPriority = 2_097_151;

/** BullMQ priority of a member whose remaining path is `pathSeconds` long (one-second steps, up to ~24 days). */
export function priorityFor(pathSeconds: number): number {
  return Math.min(lowestPriority, Math.max(1, lowestPriority + 1 - Math.ceil(pathSeconds)));
}

/** The expected duration: the median of earlier builds of the same package and arch, or the default. */
export function estimateFrom(
  history: number[] | undefined,
  defaultSeconds: number,
): { seconds: number; known: boolean } {
  const known = (history ?? []).filter((s) => Number.isFinite(s) && s >= 0).sort((a, b) => a - b);
  if (known.length === 0) return { seconds: defaultSeconds, known: false };
  const mid = Math.floor(known.length / 2);
  const median =
    known.length % 2 === 1 ? (known[mid] as number) : ((known[mid - 1] as number) + (known[mid] as number)) / 2;
  return { seconds: Math.max(1, median), known: true };
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
