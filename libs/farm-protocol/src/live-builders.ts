import { shortfallsOf, type BuildNeeds, type HostCapacity } from './placement.ts';
import type { BuilderStatus } from './records.ts';

/** A live builder that takes jobs of an arch now (heartbeat present, not draining or paused). */
export interface LiveBuilder {
  id: string;
  capacity: HostCapacity;
  freeSlots: number;
}

/** The live builders of `arch`, with what they offer builds and their free slots, from their heartbeats. */
export function liveBuildersOf(builders: BuilderStatus[], arch: string): LiveBuilder[] {
  return builders.flatMap((b): LiveBuilder[] => {
    const f = b.facts;
    if (!f || f.mode !== 'active' || !f.archs.includes(arch)) return [];
    const capacity: HostCapacity = {
      cores: f.cores,
      memoryBytes: f.memoryTotalBytes,
      diskFreeBytes: f.diskFreeBytes,
      networkBuilds: f.allowNetworkBuilds === true,
    };
    return [{ id: b.id, capacity, freeSlots: Math.max(0, f.slots - f.currentTasks.length) }];
  });
}

/** The first of `live` that meets every need and has a free slot (undefined: none now). */
export function freeAbleBuilder(needs: BuildNeeds, live: LiveBuilder[]): LiveBuilder | undefined {
  return live.find((b) => b.freeSlots > 0 && shortfallsOf(needs, b.capacity).length === 0);
}
