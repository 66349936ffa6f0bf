/**
 * How the scale benchmark (scale.ts) offers its load: at a fixed rate or flat out, and on which
 * CPUs. On one small host the 100 simulated slots, the submitting clients and Redis compete with
 * the coordinator for the same cores, which in a farm are other machines: pinning gives the
 * coordinator a core of its own, so its figures are its own and not the load generators'.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

/**
 * The start times of an open-loop submission: task i is due at `i / rate` seconds after the first
 * (0: flat out, each client takes the next task as soon as its last one is in). Open loop, so a
 * slow answer does not lower the offered rate (what a closed loop of clients would hide).
 */
export class Pacer {
  private readonly t0 = performance.now();

  constructor(private readonly rate: number) {}

  async waitTurn(index: number): Promise<void> {
    if (this.rate <= 0) return;
    const due = this.t0 + (1000 * index) / this.rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

/** CPU lists as taskset takes them: the coordinator's core (the last one) and the others. */
export function cpuSplit(cores = availableParallelism()): { coordinator: string; load: string } | undefined {
  if (cores < 2) return undefined;
  return { coordinator: String(cores - 1), load: cores === 2 ? '0' : `0-${cores - 2}` };
}

/** Sets the CPU affinity of `pid` and every thread it has (taskset -a), and of what it starts later. */
export async function pin(pid: number, cpus: string): Promise<void> {
  await execa('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdin: 'ignore' });
}
