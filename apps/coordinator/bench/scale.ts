/**
 * Benchmark: the farm at scale. N builds submitted by parallel clients while
 * S simulated worker slots build them (the fake executor: a short sleep and a
 * real tiny .deb, published to the branch repository), and a reader polls
 * task status and the task list. Then dispatch latency on idle slots, Redis
 * memory per task, and a retention pass that removes every finished task.
 * Targets: API p99 < 50 ms, bundle upload p99 < 100 ms, Redis < 5 KB per
 * finished task, every build done exactly once. Beside the load, the host's
 * own floor (a bare Redis PING, `GET /healthz`) so route figures read as ratios.
 *
 *   node --import tsx apps/coordinator/bench/scale.ts --builds 20000 --slots 100
 *     [--clients 8] [--build-ms 500] [--probes 100] [--rate TASKS_PER_S] [--no-pin] [--skip-retention]
 *     [--cpu-prof-dir DIR]
 *
 * A real redis-server, the coordinator and slots/25 worker agents as processes on this host; with two
 * cores or more the coordinator gets the last one to itself (scale-pacing.ts), unless --no-pin.
 * `--rate` offers the tasks at that rate (open loop) instead of as fast as the clients go.
 * `--cpu-prof-dir` runs the coordinator under `node --cpu-prof` (one profile per coordinator
 * start, written as it exits); summarise one with bench/cpu-profile-top.ts.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';
import { FarmHarness } from '@aoinb/farm-harness';
import { fmt, summary } from './bench-stats.ts';
import {
  cpuSeconds,
  dispatchProbes,
  exactlyOnce,
  loadAverage,
  startFloorProbe,
  waitAllFinished,
} from './scale-checks.ts';
import { diffSnapshots, routeCpuCosts, scrapeHttp } from './scale-server.ts';
import {
  keptPerTask,
  kib,
  memoryByPattern,
  packBundles,
  startReader,
  submitAll,
  Timings,
  usedMemory,
} from './scale-load.ts';
import { cpuSplit, Pacer, pin } from './scale-pacing.ts';
import { report, type Phase } from './scale-report.ts';

const { values: opts } = parseArgs({
  options: {
    builds: { type: 'string', default: '1000' },
    slots: { type: 'string', default: '100' },
    clients: { type: 'string', default: '8' },
    'build-ms': { type: 'string', default: '500' },
    probes: { type: 'string', default: '100' },
    'skip-retention': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
    'cost-requests': { type: 'string', default: '300' },
    rate: { type: 'string', default: '0' },
    'no-pin': { type: 'boolean', default: false },
  },
});
const [tasks, slots, clients, buildMs, probeCount] = [
  opts.builds,
  opts.slots,
  opts.clients,
  opts['build-ms'],
  opts.probes,
].map(Number) as [number, number, number, number, number];
const perWorker = 25;
const costRequests = Number(opts['cost-requests']);
const rate = Number(opts.rate);
const cpus = opts['no-pin'] ? undefined : cpuSplit();
// Before the farm starts: Redis, the workers and their builds inherit the load generators' CPUs.
if (cpus) await pin(process.pid, cpus.load);
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const ignore = (): undefined => undefined;

const farm = await FarmHarness.create({
  archs: ['amd64'],
  logLevel: 'error',
  maxBundleMib: 1,
  // Production timings: a 2 s lock (the tests' setting) expires on a loaded host and runs builds twice.
  stalledIntervalSeconds: 15,
  extraToml: '[retention]\ninterval_minutes = 0\n',
  coordinatorNodeArgs: opts['cpu-prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(opts['cpu-prof-dir'])] : [],
});
const redis = new Redis(farm.redis.url);

type Cpu = (mainThread?: boolean) => Promise<number>;

/** Marks a phase's start; `end()` returns what the coordinator measured and spent since. */
async function phaseStart(cpu: Cpu): Promise<{ end(client: Timings): Promise<Phase> }> {
  const [before, c0, m0] = [await scrapeHttp(farm), await cpu(), await cpu(true)];
  return {
    end: async (client) => {
      const [cpuSeconds, mainCpuSeconds] = [(await cpu()) - c0, (await cpu(true)) - m0];
      return { client, server: diffSnapshots(await scrapeHttp(farm), before), cpuSeconds, mainCpuSeconds };
    },
  };
}

/** Submit while building, then drain; the API as clients and a dashboard see it, beside the host's floor. */
async function loadPhase(cpu: Cpu): Promise<{
  submit: Phase;
  drain: Phase;
  ids: string[];
  peak: number;
  baseline: number;
}> {
  const archives = packBundles(tasks, buildMs);
  const baseline = await usedMemory(redis);
  const [api, drainApi] = [new Timings(), new Timings()];
  const ids: string[] = [];
  let peak = 0;
  const sample = (): void => void usedMemory(redis).then((m) => (peak = Math.max(peak, m - baseline)), ignore);
  const sampler = setInterval(sample, 500);
  let mark = await phaseStart(cpu);
  // Stopped whatever happens, so a failed run ends with its own error rather than a probe's.
  const running = [startReader(farm, () => ids, api), startFloorProbe(farm, redis, api)];
  const stopAll = async (): Promise<void> => void (await Promise.all(running.splice(0).map((l) => l.stop())));
  try {
    const t0 = performance.now();
    await submitAll(farm, archives, clients, api, ids, new Pacer(rate));
    const submitSeconds = (performance.now() - t0) / 1000;
    say(
      `submitted ${tasks} tasks in ${submitSeconds.toFixed(1)} s: ${(tasks / submitSeconds).toFixed(1)} tasks/s ` +
        `(load average ${await loadAverage()})`,
    );
    await stopAll();
    const submit = await mark.end(api);
    mark = await phaseStart(cpu);
    running.push(
      startReader(farm, () => ids, drainApi),
      startFloorProbe(farm, redis, drainApi),
    );
    await waitAllFinished(redis, ids, drainApi);
    await stopAll();
    const drain = await mark.end(drainApi);
    const drainSeconds = (performance.now() - t0) / 1000;
    process.stderr.write('\n');
    say(
      `all built in ${drainSeconds.toFixed(1)} s from the first submit: ${(tasks / drainSeconds).toFixed(1)} builds/s`,
    );
    return { submit, drain, ids, peak, baseline };
  } finally {
    clearInterval(sampler);
    await stopAll();
  }
}

/** The coordinator on a core of its own (unless --no-pin or one core): the load generators have the others. */
async function startPinnedCoordinator(): Promise<void> {
  await farm.startCoordinator();
  const pid = farm.processes.get('coordinator')?.child.pid;
  if (cpus && pid) await pin(pid, cpus.coordinator);
}

/** A coordinator restart with `max_finished_tasks = 1`: its first pruner pass removes every other task. */
async function retentionPhase(baseline: number): Promise<void> {
  farm.options.extraToml = '[retention]\ninterval_minutes = 60\nmax_finished_tasks = 1\n';
  await farm.kill('coordinator', 'SIGTERM', 120_000);
  const p0 = performance.now();
  await startPinnedCoordinator();
  await farm.waitFor(
    async () => (await redis.zcard(farmKeys.tasks)) <= 1,
    3_600_000,
    'the retention pass',
    undefined,
    200,
  );
  const pruneSeconds = (performance.now() - p0) / 1000;
  const afterBytes = (await usedMemory(redis)) - baseline;
  const left = (await readdir(path.join(farm.storageDir, 'tasks'))).length;
  say(
    `retention pass (max_finished_tasks = 1): ${tasks + probeCount - 1} tasks removed in ` +
      `${pruneSeconds.toFixed(1)} s (coordinator start included); ${left} task folders left`,
  );
  say(`Redis after retention: ${kib(afterBytes / tasks)} per task removed (used_memory delta against the empty farm)`);
  say(`  largest key patterns left: ${(await memoryByPattern(redis)).join('; ')}`);
}

try {
  say(
    `scale: ${tasks} builds, ${slots} slots, ${clients} clients, ${buildMs} ms fake builds, ` +
      `${rate > 0 ? `offered ${rate} tasks/s` : 'submitting flat out'}, ` +
      `${cpus ? `coordinator on CPU ${cpus.coordinator}, the rest on CPU ${cpus.load}` : 'no CPU pinning'}; ` +
      `load average ${await loadAverage()}`,
  );
  await startPinnedCoordinator();
  // One at a time: four agents starting at once on a loaded host miss the harness's 30 s heartbeat wait.
  for (let w = 0; w * perWorker < slots; w++)
    await farm.startWorker({
      id: `scale-w${w}`,
      archs: ['amd64'],
      slots: Math.min(perWorker, slots - w * perWorker),
      lockSeconds: 30,
      heartbeatSeconds: 2,
    });
  const coordinatorPid = farm.processes.get('coordinator')?.child.pid;
  const cpu: Cpu = (mainThread = false) => cpuSeconds(coordinatorPid, mainThread);
  const { submit, drain, ids, peak, baseline } = await loadPhase(cpu);
  // CPU time is what load on the host does not inflate (much): the coordinator's one thread is what bounds the farm.
  const perBuild = submit.cpuSeconds + drain.cpuSeconds;
  say(
    `coordinator CPU while submitting and building: ${perBuild.toFixed(1)} s, ` +
      `${((1000 * perBuild) / tasks).toFixed(1)} ms per build: ` +
      `its one thread saturates at about ${(tasks / perBuild).toFixed(0)} builds/s ` +
      `(20,000 builds: ${((20_000 * perBuild) / tasks / 60).toFixed(0)} min at least)`,
  );
  const once = await exactlyOnce(farm, redis, ids);
  say(once.text);
  say(`Redis peak while building: ${kib(peak / tasks)} per task (used_memory delta)`);

  const probes = summary(await dispatchProbes(farm, redis, probeCount));
  say(
    `dispatch on idle slots (${probes.n} probes): ` +
      `p50 ${fmt(probes.p50)}  p99 ${fmt(probes.p99)}  max ${fmt(probes.max)}`,
  );

  const finishedBytes = (await usedMemory(redis)) - baseline;
  const kept = await keptPerTask(redis, ids);
  say(`Redis finished: ${kib(finishedBytes / tasks)} per task (used_memory delta, log streams not yet expired)`);
  say(
    `  per finished task: task ${kib(kept.task)} + build ${kib(kept.build)} = ` +
      `${kib(kept.task + kept.build)} kept until retention; ` +
      `log stream ${kib(kept.log)} (expires 1 h after the build), ` +
      `BullMQ job ${kib(kept.job)} (last keep_completed_jobs only)`,
  );
  // Before retention, which removes the tasks (and the one whose status this reads).
  say('coordinator CPU per request, one at a time on the built farm (idle CPU subtracted):');
  for (const line of await routeCpuCosts(farm, cpu, ids[0]!, packBundles(1, 0)[0]!, costRequests)) say(line);
  for (const line of report(submit, drain, kept.task + kept.build, once.ok, `${clients} submitting clients`, slots))
    say(line);
  if (!opts['skip-retention']) await retentionPhase(baseline);
  say(`load average at the end ${await loadAverage()}`);
} finally {
  // A profile is written as the process exits cleanly: SIGTERM it before the harness SIGKILLs what is left.
  if (opts['cpu-prof-dir']) await farm.kill('coordinator', 'SIGTERM', 120_000);
  redis.disconnect();
  await farm.stop();
}
