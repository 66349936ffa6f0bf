/** Load generators of the scale benchmark (scale.ts): submitting clients, a reading client, Redis memory. */
import type { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';
import { farmTokens, type FarmHarness, bundleMembers, craftTar } from '@aoinb/farm-harness';
import { fmt, summary } from './bench-stats.ts';
import type { Pacer } from './scale-pacing.ts';

/** Response times by request kind, ms. */
export class Timings {
  readonly byKind = new Map<string, number[]>();
  errors = 0;

  async time<T extends { status: number }>(kind: string, call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const res = await call().catch((error: unknown) => {
      // A refused or reset connection counts as an error (and is reported), not as a response time.
      this.errors += 1;
      throw error;
    });
    const list = this.byKind.get(kind) ?? [];
    list.push(performance.now() - t0);
    this.byKind.set(kind, list);
    if (res.status >= 300) this.errors += 1;
    return res;
  }

  line(kind: string): string {
    const s = summary(this.byKind.get(kind) ?? []);
    const figures = [`p50 ${fmt(s.p50).padStart(9)}`, `p99 ${fmt(s.p99).padStart(9)}`, `max ${fmt(s.max).padStart(9)}`];
    return `${kind.padEnd(24)} n ${String(s.n).padStart(6)}  ${figures.join('  ')}`;
  }

  p99(kind: string): number {
    return summary(this.byKind.get(kind) ?? []).p99;
  }
}

const maintainer = { token: farmTokens.maintainer };

/** N bundles of distinct packages (each task publishes its own deb), made in-process before the clock starts. */
export function packBundles(n: number, durationMs: number): Buffer[] {
  const fake = { durationMs, lines: 3, sampleIntervalMs: 0 };
  return Array.from({ length: n }, (_, i) =>
    craftTar(bundleMembers({ name: `scale-${i}`, defines: ['ALLOW_ARCH="amd64"'], fake })),
  );
}

/**
 * `clients` clients in parallel: POST /task (with its branch), PUT build_bundle, PUT build, per task;
 * each task no sooner than the pacer's turn for it.
 */
export async function submitAll(
  farm: FarmHarness,
  archives: Buffer[],
  clients: number,
  timings: Timings,
  ids: string[],
  pacer: Pacer,
): Promise<string[]> {
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < archives.length) {
      const i = next++;
      await pacer.waitTurn(i);
      const created = await timings.time('POST /task', () =>
        farm.api('POST', '/task', { branch: 'stable' }, maintainer),
      );
      if (created.status !== 201) throw new Error(`POST /task: ${created.status} ${created.text}`);
      const id = (created.body as { id: string }).id;
      const uploaded = await timings.time('PUT /task/:id/build_bundle', () =>
        farm.api('PUT', `/task/${id}/build_bundle`, archives[i], maintainer),
      );
      if (uploaded.status !== 201)
        throw new Error(`PUT build_bundle of task ${id}: ${uploaded.status} ${uploaded.text}`);
      const started = await timings.time('PUT /task/:id/build', () =>
        farm.api('PUT', `/task/${id}/build`, undefined, maintainer),
      );
      if (started.status !== 202) throw new Error(`PUT build of task ${id}: ${started.status} ${started.text}`);
      ids.push(id);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return ids;
}

/** A dashboard-like reader until stopped: a random task's status, then the first page of the list. */
export function startReader(farm: FarmHarness, ids: () => string[], timings: Timings): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const known = ids().filter(Boolean);
      const ignore = (): undefined => undefined;
      if (known.length > 0) {
        const id = known[Math.floor(Math.random() * known.length)]!;
        await timings
          .time('GET /task/:id/status', () => farm.api('GET', `/task/${id}/status`, undefined, maintainer))
          .catch(ignore);
      }
      await timings
        .time('GET /task?limit=50', () => farm.api('GET', '/task?limit=50', undefined, maintainer))
        .catch(ignore);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/** MEMORY USAGE of every key of a finished task, by kind: what it costs while retention keeps it. */
export async function taskKeyBytes(redis: Redis, id: string, run = 1): Promise<Record<string, number>> {
  const usage = async (key: string): Promise<number> =>
    Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  return {
    task: await usage(farmKeys.task(id)),
    build: await usage(farmKeys.build(id, 'amd64')),
    log: await usage(farmKeys.log(id, 'amd64', run)),
    job: await usage(`{aoinb}:build-amd64:t${id}-amd64-r${run}`),
  };
}

/** Where Redis memory is, by key pattern (digits as N), largest first. */
export async function memoryByPattern(redis: Redis, top = 6): Promise<string[]> {
  const sums = new Map<string, { bytes: number; keys: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const bytes = Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
      const pattern = key.replace(/\d+/g, 'N');
      const sum = sums.get(pattern) ?? { bytes: 0, keys: 0 };
      sums.set(pattern, { bytes: sum.bytes + bytes, keys: sum.keys + 1 });
    }
  } while (cursor !== '0');
  return [...sums.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([pattern, s]) => `${pattern} (${s.keys} keys) ${kib(s.bytes)}`);
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KiB`;
}

/** MEMORY USAGE of a sample of finished tasks' keys, by kind. */
export async function keptPerTask(
  redis: Redis,
  ids: string[],
): Promise<Record<'task' | 'build' | 'log' | 'job', number>> {
  const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 200)) === 0);
  const kept = { task: 0, build: 0, log: 0, job: 0 };
  for (const id of sample) {
    const b = await taskKeyBytes(redis, id);
    for (const k of Object.keys(kept) as Array<keyof typeof kept>) kept[k] += (b[k] ?? 0) / sample.length;
  }
  return kept;
}
