/**
 * Benchmark: group scheduling. Random groups of N packages (default 200) in
 * three DAG shapes, build durations log-normal (median 5 min, log-sd 1.2: most
 * builds take minutes, a few take hours), on 4 and 8 workers. For each group,
 * in the same run: the makespan of the farm's policy (critical-path
 * priorities; estimates from earlier builds, exact or ±30 % noisy, or none:
 * the configured default for every member; or learned requirements, the
 * coordinator's own figure from five earlier builds each ±30 % off, for every
 * package or with a third never built before) against the lower bound
 * max(critical path, total work / workers), against FIFO (same release rule,
 * no priorities) and against one host building the list in order (AOSC's
 * classic group build). Target: the farm's policy within 15 % of the bound.
 *
 *   node --import tsx apps/coordinator/bench/group-schedule.ts [packages=200] [groups-per-shape=10] [log-sd=1.2]
 *
 * A discrete-event simulation that drives the scheduler's own code (see
 * group-sim.ts); `group-live.ts` runs the same policy on the real farm with the
 * fake executor to check the simulation.
 */
import { estimateFrom } from '../src/groups/critical-path.ts';
import type { Estimates } from '../src/groups/group-plan.ts';
import type { DagNode } from '../src/groups/group-dag.ts';
import { learnedFrom, learnedKept } from '../src/placement/learned-requirements.ts';
import { criticalPath, estimatesOf, simulate } from './group-sim.ts';
import { noisy, randomGroup, rng, shapes } from './random-dag.ts';

const packages = Number(process.argv[2] ?? 200);
const perShape = Number(process.argv[3] ?? 10);
const workerCounts = [4, 8];
const medianSeconds = 300;
const sigma = Number(process.argv[4] ?? 1.2);
const defaultSeconds = 600;

interface Row {
  bound: number;
  cp: number;
  work: number;
  exact: number;
  noisy: number;
  none: number;
  learned: number;
  learnedPartly: number;
  fifo: number;
  sequential: number;
}

const hours = (s: number): string => `${(s / 3600).toFixed(2)} h`;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * What the coordinator would estimate from its learned requirements: each package built
 * `learnedKept` times before, each time ±30 % off its duration now; `newShare` of them never built.
 */
function learnedEstimates(nodes: DagNode[], durations: Map<string, number>, seed: number, newShare: number): Estimates {
  const earlier = Array.from({ length: learnedKept }, (_, i) => noisy(durations, seed * 31 + i, 0.3));
  const random = rng(seed ^ 0x5bd1e995);
  return new Map(
    nodes.map((n) => {
      const builtBefore = random() >= newShare;
      const samples = (builtBefore ? earlier : []).map((e) => ({
        peakMemoryBytes: 0,
        peakDiskBytes: 0,
        cpuSeconds: 0,
        seconds: e.get(n.key) ?? 0,
        at: '',
      }));
      return [n.key, estimateFrom({ learned: learnedFrom(samples) }, defaultSeconds)];
    }),
  );
}

function runOne(seed: number, shapeIndex: number, workers: number): Row {
  const { nodes, durations } = randomGroup(seed, packages, shapes[shapeIndex]!, medianSeconds, sigma);
  const work = [...durations.values()].reduce((a, b) => a + b, 0);
  const cp = criticalPath(nodes, durations);
  const bound = Math.max(cp, work / workers);
  const none = new Map(nodes.map((n) => [n.key, estimateFrom({}, defaultSeconds)]));
  return {
    bound,
    cp,
    work,
    exact: simulate(nodes, durations, workers, estimatesOf(durations), false).makespan,
    noisy: simulate(nodes, durations, workers, estimatesOf(noisy(durations, seed, 0.3)), false).makespan,
    none: simulate(nodes, durations, workers, none, false).makespan,
    learned: simulate(nodes, durations, workers, learnedEstimates(nodes, durations, seed, 0), false).makespan,
    learnedPartly: simulate(nodes, durations, workers, learnedEstimates(nodes, durations, seed, 1 / 3), false).makespan,
    fifo: simulate(nodes, durations, workers, estimatesOf(durations), true).makespan,
    sequential: work,
  };
}

const lines: string[] = [];
const say = (line: string): void => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
say(
  `group scheduling: ${packages} packages per group, ${perShape} random groups per shape, ` +
    `durations log-normal (median ${medianSeconds} s, log-sd ${sigma}); makespan / lower bound`,
);
say('');
say(
  '| shape | workers | lower bound (mean) | critical path (history) | ±30 % noisy history | no history (default) ' +
    '| learned (5 builds ±30 %) | learned, 1/3 never built | FIFO | one host, listed order |',
);
say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const worst: number[] = [];
for (const [shapeIndex, shape] of shapes.entries()) {
  for (const workers of workerCounts) {
    const rows = Array.from({ length: perShape }, (_, i) => runOne(1000 * (shapeIndex + 1) + i, shapeIndex, workers));
    const r = (pick: (row: Row) => number): string => {
      const ratios = rows.map((row) => pick(row) / row.bound);
      return `${mean(ratios).toFixed(3)} (max ${Math.max(...ratios).toFixed(3)})`;
    };
    worst.push(...rows.map((row) => row.exact / row.bound));
    const cpBound = rows.filter((row) => row.cp >= row.work / workers).length;
    const bound = `${hours(mean(rows.map((row) => row.bound)))} (${cpBound}/${perShape} set by the critical path)`;
    const policies = [(x: Row) => x.exact, (x: Row) => x.noisy, (x: Row) => x.none, (x: Row) => x.learned];
    const others = [(x: Row) => x.learnedPartly, (x: Row) => x.fifo, (x: Row) => x.sequential];
    say(`| ${[shape.name, workers, bound, ...[...policies, ...others].map(r)].join(' | ')} |`);
  }
}
say('');
const max = Math.max(...worst);
say(
  `critical path (history) vs lower bound: mean ${mean(worst).toFixed(3)}, worst ${max.toFixed(3)} ` +
    `over ${worst.length} runs; target <= 1.15: ${max <= 1.15 ? 'met' : 'NOT met'}`,
);
