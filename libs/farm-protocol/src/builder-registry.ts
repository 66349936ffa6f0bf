import { farmKeys, type FarmKeys } from './names.ts';
import type { BuilderFacts, BuilderStatus } from './records.ts';
import type { RedisClient } from './redis-options.ts';
import { checkExec } from './store-replies.ts';

/** Builders silent for longer than this are dropped from the list altogether. */
const forgetAfterMs = 7 * 24 * 3600 * 1000;

/**
 * A heartbeat: the facts with a TTL (gone = offline) and the builder's id in the
 * list with its time, so an offline builder is still listed, as offline.
 */
export async function writeHeartbeat(
  redis: RedisClient,
  facts: BuilderFacts,
  ttlSeconds: number,
  keys: FarmKeys = farmKeys,
): Promise<void> {
  const replies = await redis
    .multi()
    .set(keys.builder(facts.id), JSON.stringify(facts), 'EX', ttlSeconds)
    .zadd(keys.builders, Date.parse(facts.lastHeartbeat), facts.id)
    .exec();
  checkExec(`heartbeat of builder ${facts.id}`, [`SET ${keys.builder(facts.id)}`, `ZADD ${keys.builders}`], replies);
}

/** A builder leaving cleanly: offline at once. */
export async function retireBuilder(redis: RedisClient, builderId: string, keys: FarmKeys = farmKeys): Promise<void> {
  await redis.del(keys.builder(builderId));
}

export async function readBuilders(
  redis: RedisClient,
  now = Date.now(),
  keys: FarmKeys = farmKeys,
): Promise<BuilderStatus[]> {
  await redis.zremrangebyscore(keys.builders, '-inf', now - forgetAfterMs);
  const entries = await redis.zrange(keys.builders, 0, -1, 'WITHSCORES');
  const ids: string[] = [];
  const seen: number[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    ids.push(entries[i] as string);
    seen.push(Number(entries[i + 1]));
  }
  if (ids.length === 0) return [];
  const facts = await redis.mget(...ids.map((id) => keys.builder(id)));
  return ids
    .map((id, i): BuilderStatus => {
      const raw = facts[i];
      const lastHeartbeat = new Date(seen[i] as number).toISOString();
      if (!raw) return { id, state: 'offline', lastHeartbeat };
      const parsed = JSON.parse(raw) as BuilderFacts;
      return {
        id,
        state: parsed.currentTasks.length > 0 ? 'building' : 'idle',
        lastHeartbeat: parsed.lastHeartbeat,
        facts: parsed,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}
