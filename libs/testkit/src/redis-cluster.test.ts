import { access } from 'node:fs/promises';
import { execa } from 'execa';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisCluster } from './redis-cluster.ts';

async function clusterInfo(port: number): Promise<string> {
  return (await execa('redis-cli', ['-p', String(port), 'cluster', 'info'], { reject: false })).stdout;
}

describe('startRedisCluster', () => {
  it('runs a real 3-master Redis Cluster and stops every node', async () => {
    const cluster = await startRedisCluster();
    try {
      expect(cluster.ports).toHaveLength(3);
      expect(new Set(cluster.ports).size).toBe(3);
      for (const port of cluster.ports) {
        const info = await clusterInfo(port);
        expect(info).toMatch(/cluster_state:ok/);
        expect(info).toMatch(/cluster_size:3/);
      }
      const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
      try {
        // Keys of many slots land on all three masters; the client follows the slot map.
        for (let i = 0; i < 30; i++) await client.set(`key-${i}`, String(i));
        const perNode = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
        expect(perNode.every((n) => n > 0)).toBe(true);
        expect(perNode.reduce((a, b) => a + b, 0)).toBe(30);
        // One hash tag: one slot, so a multi-key command works.
        await client.mset('{farm}:a', '1', '{farm}:b', '2');
        expect(await client.mget('{farm}:a', '{farm}:b')).toEqual(['1', '2']);
        await expect(client.mset('a-1', '1', 'b-2', '2')).rejects.toThrow(/CROSSSLOT/);
      } finally {
        client.disconnect();
      }
    } finally {
      await cluster.stop();
    }
    for (const port of cluster.ports) expect(await clusterInfo(port)).toBe('');
    await expect(access(cluster.dir)).rejects.toThrow();
    await cluster.stop();
  });
});
