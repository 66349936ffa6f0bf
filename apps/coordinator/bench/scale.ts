/**
 * Benchmark: the farm at scale. N builds submitted by parallel clients while
 * S simulated worker slots build them (the fake executor: a short sleep and a
 * real tiny .deb, published to the branch repository), and a reader polls
 * task status and the task list. Then dispatch latency on idle slots, Redis
 * memory per task, and a retention pass that removes every finished task.
 * Targets: API p99 < 50 ms, bundle upload p99 < 100 ms, Redis < 5 KB per
 * finished task, every build done exactly once.
 *
 *   node --import tsx apps/coordinator/bench/scale.ts [tasks=1000] [slots=100] [clients=8] [build_ms=500]
 *
 * A real redis-server, the coordinator and slots/25 worker agents as processes on this host.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';
import { FarmHarness, farmTokens } from '../src/testing/farm-harness.ts';
import { packTestBundle } from '../src/testing/test-bundles.ts';
import { fmt, summary } from './bench-stats.ts';
import {
  kib,
  memoryByPattern,
  packBundles,
  startReader,
  submitAll,
  taskKeyBytes,
  Timings,
  usedMemory,
} from './scale-load.ts';

const [tasks, slots, clients, buildMs] = [1000, 100, 8, 500].map((d, i) => Number(process.argv[2 + i] ?? d)) as [
  number,
  number,
  number,
  number,
];
const perWorker = 25;
const out: string[] = [];
const say = (line: string): void => {
  out.push(line);
  process.stdout.write(`${line}\n`);
};

async function waitAllFinished(redis: Redis, ids: string[], reader: Timings): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(farmKeys.task(id), 'state');
    const states = ((await pipeline.exec()) ?? []).map(([, s]) => s as string);
    const left = states.filter((s) => s !== 'succeeded' && s !== 'failed' && s !== 'cancelled').length;
    if (left === 0) return (performance.now() - t0) / 1000;
    process.stderr.write(`\r${left} builds left, ${reader.errors} errors   `);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Every build succeeded, in run 1 at attempt 1 (claimed once), and its deb is listed once. */
async function exactlyOnce(farm: FarmHarness, redis: Redis, ids: string[]): Promise<string> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(farmKeys.build(id, 'amd64'), 'state', 'run', 'attempt');
  const builds = ((await pipeline.exec()) ?? []).map(([, v]) => v as string[]);
  const bad = builds.filter(([state, run, attempt]) => state !== 'succeeded' || run !== '1' || attempt !== '1');
  const packages = await readFile(path.join(farm.storageDir, 'output/stable/Packages'), 'utf8');
  const listed = packages.match(/^Package: scale-\d+$/gm) ?? [];
  const distinct = new Set(listed).size;
  return `${ids.length - bad.length}/${ids.length} builds succeeded at run 1, attempt 1; ${listed.length} debs listed, ${distinct} distinct: ${
    bad.length === 0 && listed.length === ids.length && distinct === ids.length ? 'exactly once' : 'NOT exactly once'
  }`;
}

/** PUT /task/:id/build -> the job running on an idle slot, one task at a time. */
async function dispatchProbes(farm: FarmHarness, redis: Redis, n: number): Promise<number[]> {
  const archive = await packTestBundle(`${farm.root}/bundles`, {
    name: 'probe',
    defines: ['ALLOW_ARCH="amd64"'],
    fake: { durationMs: 0, lines: 1, fail: 'probe only' },
  });
  const maintainer = { token: farmTokens.maintainer };
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = ((await farm.api('POST', '/task', { branch: 'stable' }, maintainer)).body as { id: string }).id;
    await farm.api('PUT', `/task/${id}/build_bundle`, archive, maintainer);
    const sent = Date.now();
    await farm.api('PUT', `/task/${id}/build`, undefined, maintainer);
    let started: string | null = null;
    while (!started) {
      started = await redis.hget(farmKeys.build(id, 'amd64'), 'startedAtMs');
      if (!started) await new Promise((r) => setTimeout(r, 2));
    }
    latencies.push(Number(started) - sent);
    await farm.waitForState(id, ['failed'], 30_000);
  }
  return latencies;
}

const farm = await FarmHarness.create({
  archs: ['amd64'],
  logLevel: 'error',
  maxBundleMib: 1,
  // Production timings: a 2 s lock (the tests' setting) expires on a loaded host and runs builds twice.
  stalledIntervalSeconds: 15,
  extraToml: '[retention]\ninterval_minutes = 0\n',
});
const redis = new Redis(farm.redis.url);
try {
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  say(`scale: ${tasks} builds, ${slots} slots, ${clients} clients, ${buildMs} ms fake builds; load average ${load}`);
  await farm.startCoordinator();
  // One at a time: four agents starting at once on a loaded host miss the harness's 30 s heartbeat wait.
  for (let w = 0; w * perWorker < slots; w++)
    await farm.startWorker({
      id: `scale-w${w}`,
      archs: ['amd64'],
      slots: Math.min(perWorker, slots - w * perWorker),
      lockSeconds: 30,
      heartbeatSeconds: 2,
    });
  const archives = packBundles(tasks, buildMs);
  const baseline = await usedMemory(redis);

  const api = new Timings();
  const ids: string[] = [];
  let peak = 0;
  const sampler = setInterval(() => void usedMemory(redis).then((m) => (peak = Math.max(peak, m - baseline))), 500);
  const reader = startReader(farm, () => ids, api);
  const t0 = performance.now();
  await submitAll(farm, archives, clients, api, ids);
  const submitSeconds = (performance.now() - t0) / 1000;
  say(`submitted ${tasks} tasks in ${submitSeconds.toFixed(1)} s: ${(tasks / submitSeconds).toFixed(1)} tasks/s`);
  const drainApi = new Timings();
  const drainReader = startReader(farm, () => ids, drainApi);
  await reader.stop();
  await waitAllFinished(redis, ids, drainApi);
  const drainSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  await drainReader.stop();
  process.stderr.write('\n');
  say(`all built in ${drainSeconds.toFixed(1)} s from the first submit: ${(tasks / drainSeconds).toFixed(1)} builds/s`);
  say(await exactlyOnce(farm, redis, ids));
  say(`Redis peak while building: ${kib(peak / tasks)} per task`);

  const probes = summary(await dispatchProbes(farm, redis, 100));
  say(
    `dispatch on idle slots (${probes.n} probes): p50 ${fmt(probes.p50)}  p99 ${fmt(probes.p99)}  max ${fmt(probes.max)}`,
  );

  const finishedBytes = (await usedMemory(redis)) - baseline;
  const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(tasks / 200)) === 0);
  const kept = { task: 0, build: 0, log: 0, job: 0 };
  for (const id of sample) {
    const b = await taskKeyBytes(redis, id);
    for (const k of Object.keys(kept) as Array<keyof typeof kept>) kept[k] += (b[k] ?? 0) / sample.length;
  }
  say(`Redis finished: ${kib(finishedBytes / tasks)} per task (used_memory delta, log streams not yet expired)`);
  say(
    `  per finished task: task ${kib(kept.task)} + build ${kib(kept.build)} = ${kib(kept.task + kept.build)} kept until retention; ` +
      `log stream ${kib(kept.log)} (expires 1 h after the build), BullMQ job ${kib(kept.job)} (last keep_completed_jobs only)`,
  );

  farm.options.extraToml = '[retention]\ninterval_minutes = 60\nmax_finished_tasks = 1\n';
  await farm.kill('coordinator', 'SIGTERM');
  const p0 = performance.now();
  await farm.startCoordinator();
  await farm.waitFor(
    async () => (await redis.zcard(farmKeys.tasks)) <= 1,
    600_000,
    'the retention pass',
    undefined,
    200,
  );
  const pruneSeconds = (performance.now() - p0) / 1000;
  const afterBytes = (await usedMemory(redis)) - baseline;
  const left = (await readdir(path.join(farm.storageDir, 'tasks'))).length;
  say(
    `retention pass (max_finished_tasks = 1): ${tasks + 100 - 1} tasks removed in ${pruneSeconds.toFixed(1)} s (coordinator start included); ${left} task folders left`,
  );
  say(`Redis after retention: ${kib(afterBytes / tasks)} per task removed (used_memory delta against the empty farm)`);
  say(`  largest key patterns left: ${(await memoryByPattern(redis)).join('; ')}`);

  say(`API under load (submit: ${clients} submitting clients + 1 reader while ${slots} slots build; drain: 1 reader):`);
  for (const kind of [
    'POST /task',
    'PUT /task/:id/build_bundle',
    'PUT /task/:id/build',
    'GET /task/:id/status',
    'GET /task?limit=50',
  ])
    say(`  submit  ${api.line(kind)}`);
  for (const kind of ['GET /task/:id/status', 'GET /task?limit=50']) say(`  drain   ${drainApi.line(kind)}`);
  const apiP99 = Math.max(
    ...['POST /task', 'PUT /task/:id/build', 'GET /task/:id/status', 'GET /task?limit=50'].map((k) =>
      Math.max(api.p99(k), drainApi.p99(k) || 0),
    ),
  );
  say(
    `targets: API p99 < 50 ms: ${apiP99 < 50 ? 'met' : 'NOT met'} (${fmt(apiP99)}); upload p99 < 100 ms: ${
      api.p99('PUT /task/:id/build_bundle') < 100 ? 'met' : 'NOT met'
    }; Redis < 5 KB per finished task: ${kept.task + kept.build < 5 * 1024 ? 'met' : 'NOT met'}; errors ${api.errors + drainApi.errors}`,
  );
} finally {
  redis.disconnect();
  await farm.stop();
}
