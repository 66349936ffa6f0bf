import { Gauge, type Registry } from 'prom-client';
import { sharedRefresh, type CollectGuard } from '@aoinb/metrics';
import { defaultFarmPrefix, farmNode, type RedisClient } from '@aoinb/farm-protocol';

/** `used_memory` and `maxmemory` from INFO memory (bytes; maxmemory 0 = no limit). */
export function parseRedisMemory(info: string): { used: number; max: number } {
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { used: field('used_memory'), max: field('maxmemory') };
}

interface RedisSnapshot {
  up: number;
  pingSeconds?: number;
  used?: number;
  max?: number;
}

/**
 * Redis reachability as the coordinator sees it, measured at scrape time: a
 * PING round trip (only when the client is connected: while it reconnects the
 * answer is 0 at once, with no command queued) and INFO memory, since the farm
 * runs Redis with `noeviction` and a full Redis refuses writes.
 */
export function registerRedisMetrics(
  registry: Registry,
  redis: RedisClient,
  guard: CollectGuard,
  prefix = defaultFarmPrefix,
): void {
  const snapshot = sharedRefresh(async (): Promise<RedisSnapshot> => {
    const result: RedisSnapshot = { up: 0 };
    if (redis.status !== 'ready') return result;
    await guard.run('redis', async () => {
      const started = performance.now();
      // On a cluster: the memory of the node that holds the farm's slot (every farm key is there).
      const [pong, info] = await Promise.all([redis.ping(), farmNode(redis, prefix).then((n) => n.info('memory'))]);
      const memory = parseRedisMemory(info);
      Object.assign(result, {
        up: pong === 'PONG' ? 1 : 0,
        pingSeconds: (performance.now() - started) / 1000,
        used: memory.used,
        max: memory.max,
      });
    });
    return result;
  });
  const gauge = (name: string, help: string, pick: (s: RedisSnapshot) => number | undefined): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = pick(await snapshot());
        if (value !== undefined) this.set(value);
      },
    });
  };
  gauge(
    'aoinb_redis_up',
    "1 when the coordinator's Redis connection answered PING during this scrape, else 0",
    (s) => s.up,
  );
  gauge(
    'aoinb_redis_ping_seconds',
    'Round trip of the last successful PING (with INFO memory) from the coordinator to Redis',
    (s) => s.pingSeconds,
  );
  gauge('aoinb_redis_used_memory_bytes', 'Redis used_memory at the last successful scrape', (s) => s.used);
  gauge('aoinb_redis_maxmemory_bytes', 'Redis maxmemory (0 = no limit) at the last successful scrape', (s) => s.max);
}
