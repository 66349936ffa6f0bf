import { buildPlan, type Estimates } from '../src/groups/group-plan.ts';
import type { DagNode } from '../src/groups/group-dag.ts';
import { decide, type MemberView } from '../src/groups/group-policy.ts';

/**
 * A discrete-event simulation of the farm running one group, driving the
 * scheduler's own code: `buildPlan` (the DAG, its topological order, the
 * critical-path lengths and BullMQ priorities the coordinator computes) and
 * `decide` (the release rule the coordinator applies after every member
 * result). What it emulates is BullMQ's dispatch: released members enter the
 * arch queue most urgent first (as `advanceLocked` releases them); an idle
 * worker takes the smallest priority, ties in release order (BullMQ's
 * prioritized set: score = priority, then a counter). `fifo` drops the
 * priorities: the queue is served in release order, as BullMQ does with
 * none. Transfer and dispatch overheads (tens of milliseconds on the farm)
 * are left out: builds here take minutes.
 */
export interface SimResult {
  makespan: number;
  /** Start time of every member (seconds), for checks. */
  starts: Map<string, number>;
}

export function simulate(
  nodes: DagNode[],
  durations: Map<string, number>,
  workers: number,
  estimates: Estimates,
  fifo: boolean,
): SimResult {
  const plan = buildPlan(nodes, estimates);
  const order = plan.map((m) => m.key);
  const deps = new Map(plan.map((m) => [m.key, m.deps]));
  const priority = new Map(plan.map((m) => [m.key, fifo ? 0 : m.priority]));
  const views = new Map<string, MemberView>(order.map((k) => [k, { status: 'waiting' }]));
  const queue: Array<{ key: string; priority: number; seq: number }> = [];
  const running: Array<{ key: string; end: number }> = [];
  const starts = new Map<string, number>();
  let seq = 0;
  let now = 0;
  const release = (): void => {
    const ready = decide(order, deps, views).release.sort((a, b) => (priority.get(a) ?? 0) - (priority.get(b) ?? 0));
    for (const key of ready) {
      views.set(key, { status: 'queued' });
      queue.push({ key, priority: priority.get(key) ?? 0, seq: seq++ });
    }
  };
  const dispatch = (): void => {
    while (running.length < workers && queue.length > 0) {
      let best = 0;
      for (let i = 1; i < queue.length; i += 1) {
        const q = queue[i]!;
        const b = queue[best]!;
        if (q.priority < b.priority || (q.priority === b.priority && q.seq < b.seq)) best = i;
      }
      const [job] = queue.splice(best, 1);
      views.set(job!.key, { status: 'running' });
      starts.set(job!.key, now);
      running.push({ key: job!.key, end: now + (durations.get(job!.key) ?? 0) });
    }
  };
  release();
  dispatch();
  while (running.length > 0) {
    running.sort((a, b) => a.end - b.end);
    const done = running.shift()!;
    now = done.end;
    views.set(done.key, { status: 'succeeded' });
    release();
    dispatch();
  }
  return { makespan: now, starts };
}

/** The longest chain of real durations through the DAG. */
export function criticalPath(nodes: DagNode[], durations: Map<string, number>): number {
  const plan = buildPlan(
    nodes,
    new Map([...durations].map(([k, s]) => [k, { seconds: s, source: 'learned' as const }])),
  );
  return Math.max(...plan.map((m) => m.pathSeconds));
}

export function estimatesOf(durations: Map<string, number>): Estimates {
  return new Map([...durations].map(([k, s]) => [k, { seconds: s, source: 'learned' as const }]));
}
