import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../build-types.ts';
import { layoutOf } from '../context.ts';
import { memoryPollMs } from '../resources/resource-sampler.ts';
import { parseFlatKeyed, workingSetV1, workingSetV2 } from '../resources/working-set.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

/**
 * The peak memory a build records (what the coordinator learns its next builds need) through the
 * real pipeline: a build that writes and reads back a big file (its cgroup's page cache grows by
 * that much) records about what a plain build does; a build that holds a known allocation records it,
 * even for less than the resource series' sample interval.
 */
const MiB = 1024 * 1024;
const fileMiB = 512;
const allocMiB = 384;
let host: BuildHost;
let plain: BuildResult;

beforeAll(async () => {
  host = await createBuildHost({ extraToml: '[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 5' });
  plain = await build('mem-plain', '');
});
afterAll(async () => {
  await host?.close();
});

/** The build's own cgroup's memory.stat while it runs ('' before and after), and which cgroup version. */
async function memoryStat(buildId: string): Promise<{ text: string; v1: boolean }> {
  const cgroup = `build-${layoutOf(host.ctx).hostScoped(buildId)}`;
  const v1 = await readFile(`/sys/fs/cgroup/memory/aoinb/${cgroup}/memory.stat`, 'utf8').catch(() => undefined);
  if (v1 !== undefined) return { text: v1, v1: true };
  return { text: await readFile(`/sys/fs/cgroup/aoinb/${cgroup}/memory.stat`, 'utf8').catch(() => ''), v1: false };
}

/** The page cache of the build's own cgroup while it runs (cgroup v1; v2 says `file`). */
async function cacheBytes(buildId: string): Promise<number> {
  const stat = parseFlatKeyed((await memoryStat(buildId)).text);
  return stat.get('total_cache') ?? stat.get('file') ?? 0;
}

/**
 * Creates `/buildroot/<gate>` in the build once the test saw `bytes` in its cgroup's working set in a few polls
 * at the meter's own memory pace, in this process (so the meter's polls were due as often), not after a guessed time.
 */
function releaseWhenSeen(buildId: string, gate: string, bytes: number): { stop(): void } {
  let stopped = false;
  void (async () => {
    for (let seen = 0; !stopped && seen < 4; await new Promise((r) => setTimeout(r, memoryPollMs))) {
      const { text, v1 } = await memoryStat(buildId);
      seen = text && (v1 ? workingSetV1(text) : workingSetV2(text)) >= bytes ? seen + 1 : 0;
    }
    const merged = layoutOf(host.ctx).workspace(buildId).merged;
    if (!stopped) await writeFile(path.join(merged, 'buildroot', gate), '');
  })();
  return { stop: () => void (stopped = true) };
}

/** The example package, with `extra` run at the end of its build step. */
async function build(buildId: string, extra: string, onCache?: (bytes: number) => void): Promise<BuildResult> {
  const bundle = await host.exampleBundle(buildId);
  await appendFile(path.join(bundle, 'autobuild/build'), `\n${extra}\n`);
  const result = await runBuild(host.ctx, {
    buildId,
    bundleDir: bundle,
    branch: 'stable',
    onSample: () => void cacheBytes(buildId).then((bytes) => onCache?.(bytes)),
  });
  expect(result.reason).toBeUndefined();
  expect(result.status).toBe('succeeded');
  return result;
}

describe('the peak memory a build records', () => {
  it('does not count the page cache of a big file the build writes and reads back', async () => {
    let cache = 0;
    const reader = await build(
      'mem-reader',
      `dd if=/dev/zero of=/buildroot/big bs=1M count=${fileMiB} status=none; cat /buildroot/big >/dev/null; ` +
        'sleep 6; rm -f /buildroot/big',
      (bytes) => (cache = Math.max(cache, bytes)),
    );
    // The premise: the cgroup's own cache held the file (the kernel's usage figure counted it).
    expect(cache).toBeGreaterThan((fileMiB - 64) * MiB);
    expect(reader.resources.method).toMatch(/^cgroup-/);
    expect(reader.resources.peakMemoryBytes).toBeLessThan(plain.resources.peakMemoryBytes + 64 * MiB);
    expect(reader.resources.peakMemoryBytes).toBeLessThan(cache / 3);
  });

  it('counts memory the build allocates, to within a few MiB, held for less than a sample interval', async () => {
    // tail holds its unfinished last line (/dev/zero has no newline) until its input ends: until the test saw
    // it held (about 1 s), while the series samples every 5 s; the meter's own memory poll sees it.
    const hold = releaseWhenSeen('mem-alloc', 'alloc-seen', allocMiB * MiB);
    const wait = 'until [ -e /buildroot/alloc-seen ]; do sleep 0.05; done';
    const alloc = await build('mem-alloc', `{ head -c ${allocMiB}M /dev/zero; ${wait}; } | tail >/dev/null`).finally(
      hold.stop,
    );
    expect(alloc.resources.peakMemoryBytes).toBeGreaterThan(allocMiB * MiB);
    expect(alloc.resources.peakMemoryBytes).toBeLessThan(allocMiB * MiB + plain.resources.peakMemoryBytes + 32 * MiB);
  });
});
