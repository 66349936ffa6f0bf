import {
  describeNeeds,
  formatNeed,
  gb,
  hasNeeds,
  needNames,
  needValue,
  shortfallsOf,
  type BuildNeeds,
  type LiveBuilder,
} from '@aoinb/farm-protocol';

/**
 * Why no live builder can take a build, as a metric label: the need no builder of its arch
 * meets (`memory`, `cores`, `memory_per_core`, `disk`, `network`: none allows network builds),
 * needs each met by some builder but never all by one (`combination`), or no builder of the
 * arch at all (`no_builder`).
 */
export type UnplaceableReason =
  'memory' | 'cores' | 'memory_per_core' | 'disk' | 'network' | 'combination' | 'no_builder';

export const unplaceableReasons: readonly UnplaceableReason[] = [
  'memory',
  'cores',
  'memory_per_core',
  'disk',
  'network',
  'combination',
  'no_builder',
];

/**
 * Where a queued build stands: some live builder with a free slot can take it (`ready`), the
 * builders that can are all busy (`busy`), or no live builder can (`unplaceable`). `reason` is
 * what its status says while it waits ("waiting: ...").
 */
export type PlacementVerdict =
  | { kind: 'ready' }
  | { kind: 'busy'; reason: string }
  | { kind: 'unplaceable'; label: UnplaceableReason; reason: string };

/** Every status reason placement writes starts so; placement clears only its own. */
export const waitingPrefix = 'waiting: ';

const labelOf: Record<keyof BuildNeeds, UnplaceableReason> = {
  cores: 'cores',
  memoryBytes: 'memory',
  memoryPerCoreBytes: 'memory_per_core',
  diskBytes: 'disk',
  network: 'network',
};

/** `needs 16 GiB, largest amd64 builder has 8 GiB`: one need no live builder meets, with the best figure. */
function unmetNeed(need: keyof BuildNeeds, wanted: number, arch: string, best: number): string {
  if (need === 'network') return `no ${arch} builder allows network builds`;
  return `needs ${formatNeed(need, wanted)}, ${bestFigure(need, arch, best)}`;
}

/** `largest amd64 builder has 8 GiB`: the best figure among the live builders, for one amount. */
function bestFigure(need: Exclude<keyof BuildNeeds, 'network'>, arch: string, best: number): string {
  switch (need) {
    case 'cores':
      return `largest ${arch} builder has ${best}`;
    case 'memoryBytes':
      return `largest ${arch} builder has ${formatNeed(need, best)}`;
    case 'memoryPerCoreBytes':
      return `best ${arch} builder has ${formatNeed(need, best)}`;
    case 'diskBytes':
      return `most free disk among ${arch} builders is ${gb(best)}`;
  }
}

/** Where a build with `needs` stands among the live builders of its arch. */
export function placementVerdict(needs: BuildNeeds | undefined, arch: string, live: LiveBuilder[]): PlacementVerdict {
  if (live.length === 0)
    return { kind: 'unplaceable', label: 'no_builder', reason: `${waitingPrefix}no ${arch} builder is online` };
  if (!hasNeeds(needs)) return live.some((b) => b.freeSlots > 0) ? { kind: 'ready' } : { kind: 'busy', reason: '' };
  const able = live.filter((b) => shortfallsOf(needs, b.capacity).length === 0);
  if (able.some((b) => b.freeSlots > 0)) return { kind: 'ready' };
  if (able.length > 0)
    return {
      kind: 'busy',
      reason:
        `${waitingPrefix}needs ${describeNeeds(needs)}, ` +
        `which ${able.length} of ${live.length} ${arch} builders have; all of them are busy`,
    };
  // No builder meets every need: name the needs no builder meets alone, with the best builder's figure.
  const only = (need: keyof BuildNeeds): BuildNeeds => ({ [need]: needs[need] });
  const alone = needNames.filter(
    (need) =>
      needValue(needs, need) !== undefined && live.every((b) => shortfallsOf(only(need), b.capacity).length > 0),
  );
  if (alone.length === 0)
    return {
      kind: 'unplaceable',
      label: 'combination',
      reason: `${waitingPrefix}needs ${describeNeeds(needs)}; no ${arch} builder has all of it (${live.length} online)`,
    };
  const parts = alone.map((need) => {
    const best = Math.max(...live.map((b) => shortfallsOf(only(need), b.capacity)[0]?.has ?? 0));
    return unmetNeed(need, needValue(needs, need) as number, arch, best);
  });
  return { kind: 'unplaceable', label: labelOf[alone[0]!], reason: `${waitingPrefix}${parts.join('; ')}` };
}
