/**
 * Benchmark: one random group on the real farm (redis-server, coordinator and
 * one worker agent with W slots as processes, fake executor), to check the
 * simulation of group-schedule.ts against the scheduler as it runs. Build
 * durations are the simulation's, scaled down (default 1/500: a 5 min build
 * takes 0.6 s); earlier builds' durations are written into Redis first, as
 * the coordinator would have recorded them.
 *
 *   node --import tsx apps/coordinator/bench/group-live.ts [packages=200] [slots=4] [scale=0.002]
 *
 * Prints the makespan against the lower bound from the measured build times
 * and against what the simulation predicts for the same group.
 */
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';
import { FarmHarness, postGroup, uploadTasks, waitForGroup, packTestBundle } from '@aoinb/farm-harness';
import { criticalPath, estimatesOf, simulate } from './group-sim.ts';
import { randomGroup, shapes } from './random-dag.ts';

const packages = Number(process.argv[2] ?? 200);
const slots = Number(process.argv[3] ?? 4);
const scale = Number(process.argv[4] ?? 0.002);
const { nodes, durations } = randomGroup(2001, packages, shapes[1]!, 300, 1.2);
const scaled = new Map([...durations].map(([k, s]) => [k, s * scale]));

const farm = await FarmHarness.create({ archs: ['amd64'], logLevel: 'error' });
const redis = new Redis(farm.redis.url);
try {
  await farm.startCoordinator();
  await farm.startWorker({ id: 'bench-worker', archs: ['amd64'], slots, lockSeconds: 30 });
  for (const n of nodes)
    await redis.hset(farmKeys.buildDurations, `${n.package}/amd64`, JSON.stringify([scaled.get(n.key)]));
  const archives = await Promise.all(
    nodes.map((n) =>
      packTestBundle(`${farm.root}/bundles`, {
        name: n.package,
        defines: n.depends.length > 0 ? [`BUILDDEP="${n.depends.join(' ')}"`] : [],
        fake: { durationMs: Math.round((scaled.get(n.key) ?? 0) * 1000), lines: 1, sampleIntervalMs: 0 },
      }),
    ),
  );
  const tasks = await uploadTasks(farm, archives);
  const t0 = Date.now();
  const created = await postGroup(farm, { branch: 'stable', tasks });
  if (created.status !== 201) throw new Error(created.text);
  const id = (created.body as { id: string }).id;
  const done = await waitForGroup(farm, id, ['succeeded', 'failed', 'partial', 'cancelled'], 30 * 60_000, 2000);
  const first = Math.min(...done.members.map((m) => Date.parse(m.started_at ?? '')));
  const last = Math.max(...done.members.map((m) => Date.parse(m.finished_at ?? '')));
  const makespan = (last - first) / 1000;
  const measured = new Map(
    done.members.map((m) => [
      `${m.task_id}/amd64`,
      (Date.parse(m.finished_at ?? '') - Date.parse(m.started_at ?? '')) / 1000,
    ]),
  );
  const byTask = new Map(nodes.map((n, i) => [n.key, `${tasks[i]}/amd64`]));
  const measuredByNode = new Map(nodes.map((n) => [n.key, measured.get(byTask.get(n.key) ?? '') ?? 0]));
  const work = [...measuredByNode.values()].reduce((a, b) => a + b, 0);
  const bound = Math.max(criticalPath(nodes, measuredByNode), work / slots);
  const predicted = simulate(nodes, measuredByNode, slots, estimatesOf(scaled), false).makespan;
  process.stdout.write(
    `live group of ${packages} packages on ${slots} slots (durations x${scale}), state ${done.state}, ` +
      `POST /group -> last member done ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  process.stdout.write(
    `makespan ${makespan.toFixed(1)} s; lower bound from the measured build times ${bound.toFixed(1)} s ` +
      `(ratio ${(makespan / bound).toFixed(3)}); simulation of the same group ${predicted.toFixed(1)} s ` +
      `(ratio ${(makespan / predicted).toFixed(3)}); one host in order ${work.toFixed(1)} s\n`,
  );
  const cpu = async (args: string[]): Promise<string> =>
    (await execa('ps', ['-o', 'time=', ...args], { reject: false })).stdout.trim().split('\n')[0] ?? '?';
  const procs = [...farm.processes.values()];
  const used = await Promise.all(procs.map(async (p) => `${p.name} ${await cpu(['-p', String(p.child.pid)])}`));
  process.stdout.write(`CPU time used: ${used.join(', ')}\n`);
} finally {
  redis.disconnect();
  await farm.stop();
}
