/**
 * Benchmark: the coordinator's Redis client with and without ioredis auto-pipelining, paired in
 * one run (alternating rounds, one redis-server). Each round runs `concurrency` request-like
 * tasks at once, each the commands a `PUT /task/:id/build` starts with (the identity check's GET
 * and MGET, the task's HGETALL, an EVALSHA): per request, the event loop's busy time
 * (`eventLoopUtilization`) and the wall time of the round.
 *
 *   node --import tsx apps/coordinator/bench/redis-pipelining.ts [rounds=200] [concurrency=20]
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startRedis } from '@aoinb/testkit';
import { fmt, summary } from './bench-stats.ts';

const rounds = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 20);
const server = await startRedis();
const clients = {
  'one write per command': new Redis(server.url),
  'auto-pipelining': new Redis(server.url, { enableAutoPipelining: true }),
};
const script = "return redis.call('HGET', KEYS[1], 'state')";
try {
  const seed = clients['one write per command'];
  await seed.set('{aoinb}:farm-identity', JSON.stringify({ id: 'bench', createdAt: '' }));
  for (let i = 0; i < concurrency; i++)
    await seed.hset(`{aoinb}:task:${i}`, { id: String(i), state: 'created', branch: 'stable', archs: '["amd64"]' });
  const sha = (await seed.script('LOAD', script)) as string;
  const request = async (redis: Redis, i: number): Promise<void> => {
    await redis.get('{aoinb}:farm-identity');
    await redis.mget('{aoinb}:task-seq', '{aoinb}:group-seq');
    await redis.hgetall(`{aoinb}:task:${i}`);
    await redis.evalsha(sha, 1, `{aoinb}:task:${i}`);
  };
  const busy = new Map(Object.keys(clients).map((k) => [k, [] as number[]]));
  const wall = new Map(Object.keys(clients).map((k) => [k, [] as number[]]));
  for (let r = 0; r < rounds; r++)
    for (const [name, redis] of Object.entries(clients)) {
      const elu = performance.eventLoopUtilization();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, (_, i) => request(redis, i)));
      wall.get(name)!.push(performance.now() - t0);
      busy.get(name)!.push(performance.eventLoopUtilization(elu).active / concurrency);
    }
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(`${rounds} rounds of ${concurrency} concurrent requests (4 commands each), load average ${load}`);
  console.log('| client | event loop busy per request (mean) | round wall p50 / p99 |');
  console.log('| --- | --- | --- |');
  for (const name of Object.keys(clients)) {
    const b = summary(busy.get(name)!);
    const w = summary(wall.get(name)!);
    console.log(`| ${name} | ${(b.mean * 1000).toFixed(0)} µs | ${fmt(w.p50)} / ${fmt(w.p99)} |`);
  }
} finally {
  for (const c of Object.values(clients)) c.disconnect();
  await server.stop();
}
