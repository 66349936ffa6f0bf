/**
 * Benchmark: live log latency, a line written by the executor -> the same line
 * received by an SSE client of `GET /task/:id/log`, at 10,000 lines/s (fake
 * executor, each line stamped with its write time). Target: p99 < 250 ms.
 *
 *   node --import tsx apps/coordinator/bench/log-latency.ts [lines=50000] [rate=10000]
 */
import { FarmHarness, farmTokens, readSse, packTestBundle } from '@aoinb/farm-harness';
import { fmt, summary } from './bench-stats.ts';

const lines = Number(process.argv[2] ?? 50_000);
const rate = Number(process.argv[3] ?? 10_000);
const farm = await FarmHarness.create({ archs: ['amd64'], logLevel: 'error' });
try {
  await farm.startCoordinator();
  await farm.startWorker({ id: 'bench-worker', archs: ['amd64'], slots: 1 });
  const archive = await packTestBundle(`${farm.root}/bundles`, {
    name: 'chatty',
    defines: ['ALLOW_ARCH="amd64"'],
    fake: { lines, linesPerSecond: rate, timestamps: true, durationMs: 0 },
  });
  const maintainer = { token: farmTokens.maintainer };
  const id = ((await farm.api('POST', '/task', { branch: 'stable' }, maintainer)).body as { id: string }).id;
  await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
  const latencies: number[] = [];
  let first = 0;
  let last = 0;
  let events = 0;
  // The fake build writes its first line only after the worker fetched and unpacked the bundle,
  // by which time this follower is connected (it reads from the first line anyway).
  await farm.api('PUT', `/task/${id}/build`, undefined, maintainer);
  const follow = readSse(`${farm.coordinatorUrl}/task/${id}/log`, {
    token: farmTokens.maintainer,
    onEvent: (event) => {
      const now = performance.timeOrigin + performance.now();
      events += 1;
      for (const line of event.data.split('\n')) {
        const at = line.lastIndexOf(' t=');
        if (!line.startsWith('fake build line ') || at === -1) continue;
        const written = Number(line.slice(at + 3));
        first ||= written;
        last = written;
        latencies.push(now - written);
      }
    },
  });
  await follow;
  const s = summary(latencies);
  const achieved = latencies.length / Math.max(0.001, (last - first) / 1000);
  process.stdout.write(
    [
      `live log latency over ${s.n} lines (${events} SSE events), written at ${Math.round(achieved)} lines/s ` +
        `(asked ${rate}):`,
      `  p50 ${fmt(s.p50)}  p90 ${fmt(s.p90)}  p99 ${fmt(s.p99)}  max ${fmt(s.max)}  mean ${fmt(s.mean)}`,
      `target p99 < 250 ms: ${s.p99 < 250 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
  if (s.n !== lines) process.stdout.write(`warning: received ${s.n} of ${lines} lines\n`);
} finally {
  await farm.stop();
}
