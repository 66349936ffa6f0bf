/**
 * Benchmark: what the pipeline adds to a build, and how long a discard takes.
 *
 *   node --import tsx libs/buildroot/bench/pipeline-overhead.ts [runs]
 *
 * 1. Overhead: `runBuild()` of a trivial bundle (mounts, copies, nspawn, collect,
 *    discard; apt refresh not due) against a bare `systemd-nspawn` run of the same
 *    build.sh in an overlay mounted and staged beforehand, measured alternately in
 *    one run. Target: < 0.5 s per build.
 * 2. Discard: a workspace holding 1 GiB in 16,384 files; time until discard() returns.
 *    Target: < 0.1 s.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { runBuild } from '../src/pipeline/run-build.ts';
import { runContainer } from '../src/host/nspawn.ts';
import { mountOverlay, unmountAllUnder } from '../src/host/mount-table.ts';
import { overlayVolatileSupport } from '../src/layers/volatile-support.ts';
import { layoutOf } from '../src/context.ts';
import { stageBundle } from '../src/pipeline/stage-bundle.ts';
import { writeFakeBundleAt } from '@aoinb/testkit';
import { createBuildHost } from '@aoinb/testkit/build-host';
import { measureDiscard } from './discard-measure.ts';

const runs = Number(process.argv[2] ?? 10);

function stats(values: number[]): { median: number; mean: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { median: sorted[Math.floor(sorted.length / 2)]!, mean, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

const trivialBundle = (dir: string): Promise<string> =>
  writeFakeBundleAt(dir, {
    name: 'trivial',
    // No ELF file to split a -dbg package from: autobuild4 fails the split without ABSPLITDBG=0.
    defines: ['ABTYPE=self', 'ABSPLITDBG=0'],
    build: ['mkdir -p "$PKGDIR"/usr/share/trivial && echo hi > "$PKGDIR"/usr/share/trivial/hi'],
  });

async function bareRun(host: Awaited<ReturnType<typeof createBuildHost>>, bundle: string, i: number): Promise<number> {
  const layout = layoutOf(host.ctx);
  const dir = path.join(host.dir, `bare-${i}`);
  const upper = path.join(dir, 'upper');
  const merged = path.join(dir, 'merged');
  await Promise.all([upper, path.join(dir, 'work'), merged].map((d) => mkdir(d, { recursive: true })));
  await mountOverlay({
    lowers: [layout.instance('stable').upper, layout.baseos],
    upper,
    work: path.join(dir, 'work'),
    target: merged,
  });
  await stageBundle(merged, bundle);
  const started = performance.now();
  const exit = await runContainer({
    root: merged,
    machine: `aoinb-bench-${i}`,
    command: ['/bin/bash', '/buildroot/toolbox/build.sh'],
    chdir: '/buildroot',
    env: { AOINB_PKGNAME: 'trivial', AOINB_PKGVER: '1.0', AOINB_PKGREL: '0', AOINB_ARCH: host.ctx.config.arch },
  });
  const elapsed = performance.now() - started;
  await unmountAllUnder(dir);
  if (exit.exitCode !== 0) throw new Error(`bare run exited ${exit.exitCode}`);
  return elapsed;
}

async function overhead(host: Awaited<ReturnType<typeof createBuildHost>>): Promise<void> {
  const bundle = await trivialBundle(path.join(host.dir, 'trivial'));
  // Warm-up: creates and refreshes the instance, so later runs exclude apt refresh.
  await runBuild(host.ctx, { buildId: 'warmup', bundleDir: bundle, branch: 'stable' });
  const pipeline: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    const result = await runBuild(host.ctx, { buildId: `bench-${i}`, bundleDir: bundle, branch: 'stable' });
    pipeline.push(performance.now() - started);
    if (result.status !== 'succeeded') throw new Error(`pipeline run failed: ${result.reason}`);
    bare.push(await bareRun(host, bundle, i));
  }
  const p = stats(pipeline);
  const b = stats(bare);
  console.log(`pipeline overhead (${runs} runs each, trivial bundle, apt refresh not due)`);
  console.log(
    `  runBuild()         median ${fmt(p.median)}  mean ${fmt(p.mean)}  min ${fmt(p.min)}  max ${fmt(p.max)}`,
  );
  console.log(
    `  bare nspawn        median ${fmt(b.median)}  mean ${fmt(b.mean)}  min ${fmt(b.min)}  max ${fmt(b.max)}`,
  );
  console.log(
    `  overhead           median ${fmt(p.median - b.median)}  mean ${fmt(p.mean - b.mean)}  (target < 0.500 ` +
      `s)  ratio ${(p.median / b.median).toFixed(2)}x`,
  );
}

async function discard(host: Awaited<ReturnType<typeof createBuildHost>>): Promise<void> {
  const layout = layoutOf(host.ctx);
  // Mounted as runBuild() mounts it: volatile where the kernel has it.
  const { volatile } = await overlayVolatileSupport(layout);
  await measureDiscard(layout, 'discard-bench', { volatile });
}

const host = await createBuildHost();
try {
  await overhead(host);
  await discard(host);
} finally {
  await host.close();
}
