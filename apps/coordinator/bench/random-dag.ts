import type { DagNode } from '../src/groups/group-dag.ts';

/** Deterministic PRNG (mulberry32), so every run of the benchmark sees the same DAGs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface DagShape {
  name: string;
  /** Mean number of in-group dependencies of a package. */
  meanDeps: number;
  /** A dependency is picked among the `window` packages listed just before (small = deep chains). */
  window: number;
  /** Probability that a dependency is one of the few "core" packages (icu, glibc-like hubs). */
  hubShare: number;
}

export const shapes: DagShape[] = [
  { name: 'wide (rebuild of leaves)', meanDeps: 1, window: 200, hubShare: 0.5 },
  { name: 'mixed (library stack)', meanDeps: 2, window: 40, hubShare: 0.3 },
  { name: 'deep (bootstrap chains)', meanDeps: 2.5, window: 8, hubShare: 0.1 },
];

export interface RandomGroup {
  nodes: DagNode[];
  /** Real duration of each member's build (seconds). */
  durations: Map<string, number>;
}

/**
 * A random group of `n` packages in one arch, listed in a dependency order as
 * a tree's group file would be: package i depends on ~Poisson(meanDeps)
 * earlier packages, from a hub set or the `window` listed before it.
 * Durations are log-normal (median `medianSeconds`, log-sd `sigma`): most
 * builds take minutes, a few take hours, as in a distribution rebuild.
 */
export function randomGroup(
  seed: number,
  n: number,
  shape: DagShape,
  medianSeconds: number,
  sigma: number,
): RandomGroup {
  const random = rng(seed);
  const hubs = Math.max(3, Math.round(n / 40));
  const nodes: DagNode[] = [];
  const durations = new Map<string, number>();
  for (let i = 0; i < n; i += 1) {
    const key = `${i + 1}/amd64`;
    const depends = new Set<string>();
    let k = 0;
    for (let p = Math.exp(-shape.meanDeps), s = p, u = random(); u > s && k < 12;) {
      k += 1;
      p *= shape.meanDeps / k;
      s += p;
    }
    for (let d = 0; d < k && i > 0; d += 1) {
      const pick =
        random() < shape.hubShare
          ? Math.floor(random() * Math.min(hubs, i))
          : Math.max(0, i - 1 - Math.floor(random() * Math.min(shape.window, i)));
      depends.add(`pkg${pick}`);
    }
    nodes.push({
      key,
      taskId: String(i + 1),
      arch: 'amd64',
      package: `pkg${i}`,
      noarch: false,
      provides: [`pkg${i}`],
      depends: [...depends],
    });
    durations.set(key, Math.max(20, medianSeconds * Math.exp(sigma * normal(random))));
  }
  return { nodes, durations };
}

/** An earlier build of the same package took this long: the real duration times log-normal noise. */
export function noisy(durations: Map<string, number>, seed: number, sigma: number): Map<string, number> {
  const random = rng(seed ^ 0x9e3779b9);
  return new Map([...durations].map(([k, d]) => [k, d * Math.exp(sigma * normal(random))]));
}
