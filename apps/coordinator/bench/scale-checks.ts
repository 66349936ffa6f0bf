/** Checks and probes of the scale benchmark (scale.ts): exactly once, dispatch probes, the host's floor. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { farmKeys } from '@aoinb/farm-protocol';
import { farmTokens, packTestBundle, type FarmHarness } from '@aoinb/farm-harness';
import type { Timings } from './scale-load.ts';

/** Waits until every task is final, printing what is left; returns the seconds it took. */
export async function waitAllFinished(redis: Redis, ids: string[], reader: Timings): Promise<number> {
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
export async function exactlyOnce(
  farm: FarmHarness,
  redis: Redis,
  ids: string[],
): Promise<{ ok: boolean; text: string }> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(farmKeys.build(id, 'amd64'), 'state', 'run', 'attempt');
  const builds = ((await pipeline.exec()) ?? []).map(([, v]) => v as string[]);
  const bad = builds.filter(([state, run, attempt]) => state !== 'succeeded' || run !== '1' || attempt !== '1');
  const packages = await readFile(path.join(farm.storageDir, 'output/stable/Packages'), 'utf8');
  const listed = packages.match(/^Package: scale-\d+$/gm) ?? [];
  const distinct = new Set(listed).size;
  const ok = bad.length === 0 && listed.length === ids.length && distinct === ids.length;
  const text =
    `${ids.length - bad.length}/${ids.length} builds succeeded at run 1, attempt 1; ` +
    `${listed.length} debs listed, ${distinct} distinct`;
  return { ok, text: `${text}: ${ok ? 'exactly once' : 'NOT exactly once'}` };
}

/** PUT /task/:id/build -> the job running on an idle slot, one task at a time. */
export async function dispatchProbes(farm: FarmHarness, redis: Redis, n: number): Promise<number[]> {
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

/**
 * The host's own floor, measured beside the load until stopped: a bare Redis PING from this process
 * (what one round trip costs on this host now) and the coordinator's `GET /healthz` (HTTP, its event
 * loop and a PING: the least any route can cost). Route figures read as ratios over these.
 */
export function startFloorProbe(farm: FarmHarness, redis: Redis, timings: Timings): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      // Failures count as errors (Timings); the loop never throws, so a failed run still reports its own error.
      const ignore = (): undefined => undefined;
      await timings
        .time('Redis PING', async () => ({ status: (await redis.ping()) === 'PONG' ? 200 : 500 }))
        .catch(ignore);
      await timings.time('GET /healthz', () => farm.api('GET', '/healthz', undefined, { token: null })).catch(ignore);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s); with
 * `mainThread`, only its main thread's (Node's event loop: what one request blocks the others on), not
 * the libuv pool's (fs calls) or V8's (GC, compiler).
 */
export async function cpuSeconds(pid: number | undefined, mainThread = false): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').catch(
    () => '',
  );
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
