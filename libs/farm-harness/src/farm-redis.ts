import type { FarmLogs, ProcessLog } from '@aoinb/testkit';
import { startRedis, startRedisCluster, type RedisClusterHandle, type RedisHandle } from '@aoinb/testkit';

/**
 * A farm's Redis, its output in the farm's logs: one redis-server (log `redis-server`), or a Redis Cluster
 * (log `redis-server N` per node); `redis` is then the cluster's first node, whose stop() stops them all.
 */
export async function startFarmRedis(
  root: string,
  cluster: boolean,
  logs: FarmLogs,
): Promise<{ redis: RedisHandle; cluster?: RedisClusterHandle }> {
  if (!cluster) {
    const log = logs.add('redis-server');
    return { redis: await startRedis({ dir: root, onOutput: (text) => log.append(text) }) };
  }
  const nodes = new Map<number, ProcessLog>();
  const onOutput = (node: number, text: string): void => {
    let log = nodes.get(node);
    if (!log) nodes.set(node, (log = logs.add(`redis-server ${node + 1}`)));
    log.append(text);
  };
  const started = await startRedisCluster({ dir: root, onOutput });
  const first = { url: started.urls[0]!, port: started.ports[0]!, dir: started.dir, stop: started.stop };
  return { redis: first, cluster: started };
}
