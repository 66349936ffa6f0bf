/**
 * Benchmark: dispatch latency, `PUT /task/:id/build` sent -> the job running
 * on an idle worker (the worker's claim time, `startedAtMs` in the build
 * record), over N jobs one after another, fake executor. Target: p99 < 50 ms.
 *
 *   node --import tsx apps/coordinator/bench/dispatch-latency.ts [jobs=200]
 *
 * Runs a real redis-server, the coordinator and one worker as processes on
 * this host (the same clock, so worker timestamps and ours compare).
 */
import { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';
import { FarmHarness, farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { fmt, summary } from './bench-stats.ts';

const jobs = Number(process.argv[2] ?? 200);
const farm = await FarmHarness.create({ archs: ['amd64'], logLevel: 'error' });
const redis = new Redis(farm.redis.url);
try {
  await farm.startCoordinator();
  await farm.startWorker({ id: 'bench-worker', archs: ['amd64'], slots: 1 });
  const archive = await packTestBundle(`${farm.root}/bundles`, {
    name: 'dispatch',
    defines: ['ALLOW_ARCH="amd64"'],
    fake: { durationMs: 0, lines: 1 },
  });
  const maintainer = { token: farmTokens.maintainer };
  const latencies: number[] = [];
  const requestTimes: number[] = [];
  for (let i = 0; i < jobs + 5; i++) {
    const id = ((await farm.api('POST', '/task', { branch: 'stable' }, maintainer)).body as { id: string }).id;
    await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
    await new Promise((r) => setTimeout(r, 20));
    const sent = Date.now();
    const res = await farm.api('PUT', `/task/${id}/build`, undefined, maintainer);
    const answered = Date.now();
    if (res.status !== 202) throw new Error(`PUT build: ${res.status} ${res.text}`);
    let started: string | null = null;
    while (!started) {
      started = await redis.hget(farmKeys.build(id, 'amd64'), 'startedAtMs');
      if (!started) await new Promise((r) => setTimeout(r, 2));
    }
    await farm.waitForState(id, ['succeeded', 'failed'], 30_000);
    if (i < 5) continue; // warm-up: first connections, JIT
    latencies.push(Number(started) - sent);
    requestTimes.push(answered - sent);
  }
  const d = summary(latencies);
  const r = summary(requestTimes);
  process.stdout.write(
    [
      `dispatch latency over ${d.n} jobs (PUT /task/:id/build -> job running on an idle worker):`,
      `  p50 ${fmt(d.p50)}  p90 ${fmt(d.p90)}  p99 ${fmt(d.p99)}  max ${fmt(d.max)}  mean ${fmt(d.mean)}`,
      `PUT /task/:id/build response time: p50 ${fmt(r.p50)}  p99 ${fmt(r.p99)}`,
      `target p99 < 50 ms: ${d.p99 < 50 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
} finally {
  redis.disconnect();
  await farm.stop();
}
