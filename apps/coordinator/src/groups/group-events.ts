import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '@aoinb/logging';
import { closeRedis, connectRedis, farmKeys } from '@aoinb/farm-protocol';

type RawEntry = [id: string, fields: string[]];

/**
 * The tasks of the `type=build` entries of a batch of farm events, and what
 * happened: `ended` when a build ended (its dependents may be released or
 * skipped now), `started` when one started (the group may turn `running`).
 */
function buildChanges(entries: RawEntry[]): BuildChange[] {
  const changes = new Map<string, BuildChange>();
  for (const [, flat] of entries) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
    if (f.type !== 'build' || !f.taskId) continue;
    const ended = f.state === 'succeeded' || f.state === 'failed' || f.state === 'cancelled';
    const previous = changes.get(f.taskId);
    changes.set(f.taskId, {
      taskId: f.taskId,
      ended: ended || (previous?.ended ?? false),
      started: f.state === 'running' || (previous?.started ?? false),
    });
  }
  return [...changes.values()];
}

export interface BuildChange {
  taskId: string;
  ended: boolean;
  started: boolean;
}

/** The id of the newest entry of the farm event stream ('0-0' when empty): followers start after it. */
export async function eventStreamEnd(redis: Redis): Promise<string> {
  const last = (await redis.xrevrange(farmKeys.events, '+', '-', 'COUNT', 1)) as RawEntry[];
  return last[0]?.[0] ?? '0-0';
}

/**
 * Waits up to `blockMs` for farm events after `afterId` (a connection of its
 * own: XREAD BLOCK holds it); returns the new cursor and the build changes.
 */
export async function waitBuildEvents(
  blocking: Redis,
  afterId: string,
  blockMs: number,
): Promise<{ cursor: string; changes: BuildChange[] }> {
  const reply = await blocking.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', farmKeys.events, afterId);
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) return { cursor: afterId, changes: [] };
  return { cursor: (entries[entries.length - 1] as RawEntry)[0], changes: buildChanges(entries) };
}

/**
 * One run of the event follower (the loop restarts it after an error): a
 * connection of its own, the stream's end noted, `onStart` (a reconcile pass:
 * whatever happened before is picked up there), then every batch of build
 * changes to `onChanges` until the signal aborts.
 */
export async function followBuildEvents(
  redis: Redis,
  connection: RedisOptions,
  logger: Logger,
  signal: AbortSignal,
  onStart: () => Promise<void>,
  onChanges: (changes: BuildChange[]) => Promise<void>,
): Promise<void> {
  const blocking = connectRedis(connection, logger, 'group-events');
  const stop = (): void => blocking.disconnect();
  signal.addEventListener('abort', stop, { once: true });
  try {
    let cursor = await eventStreamEnd(redis);
    await onStart();
    while (!signal.aborted) {
      const batch = await waitBuildEvents(blocking, cursor, 5000);
      cursor = batch.cursor;
      await onChanges(batch.changes);
    }
  } finally {
    signal.removeEventListener('abort', stop);
    await closeRedis(blocking);
  }
}
