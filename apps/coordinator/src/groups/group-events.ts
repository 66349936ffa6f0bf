import type { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';

type RawEntry = [id: string, fields: string[]];

/** The task ids of the `type=build` entries of a batch of farm events. */
function buildTaskIds(entries: RawEntry[]): string[] {
  const ids = new Set<string>();
  for (const [, flat] of entries) {
    let type = '';
    let taskId = '';
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === 'type') type = flat[i + 1] as string;
      else if (flat[i] === 'taskId') taskId = flat[i + 1] as string;
    }
    if (type === 'build' && taskId) ids.add(taskId);
  }
  return [...ids];
}

/** The id of the newest entry of the farm event stream ('0-0' when empty): followers start after it. */
export async function eventStreamEnd(redis: Redis): Promise<string> {
  const last = (await redis.xrevrange(farmKeys.events, '+', '-', 'COUNT', 1)) as RawEntry[];
  return last[0]?.[0] ?? '0-0';
}

/**
 * Waits up to `blockMs` for farm events after `afterId` (a connection of its
 * own: XREAD BLOCK holds it); returns the new cursor and the tasks whose
 * builds changed.
 */
export async function waitBuildEvents(blocking: Redis, afterId: string, blockMs: number): Promise<{ cursor: string; taskIds: string[] }> {
  const reply = (await blocking.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', farmKeys.events, afterId)) as Array<[string, RawEntry[]]> | null;
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) return { cursor: afterId, taskIds: [] };
  return { cursor: (entries[entries.length - 1] as RawEntry)[0], taskIds: buildTaskIds(entries) };
}
