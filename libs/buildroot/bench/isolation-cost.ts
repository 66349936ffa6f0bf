/**
 * Benchmark: what the build sandbox costs.
 *
 *   node --import tsx libs/buildroot/bench/isolation-cost.ts [runs]
 *
 * In one run, alternately, on the same staged overlay of the test base OS:
 * 1. build.sh of the example C program (the real autobuild4) in a container with
 *    the host's network and nspawn's default capabilities, against the same with
 *    `--private-network` and the dropped capabilities the pipeline uses.
 * 2. The extra dependency step (download with the network, install offline: two
 *    more nspawn starts) for a dependency already installed: its fixed cost.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildDropCapabilities, runContainer, type ContainerRun } from '../src/host/nspawn.ts';
import { mountOverlay, unmountAllUnder } from '../src/host/mount-table.ts';
import { layoutOf } from '../src/context.ts';
import { installDependencies } from '../src/pipeline/install-deps.ts';
import { runBuild } from '../src/pipeline/run-build.ts';
import { stageBundle } from '../src/pipeline/stage-bundle.ts';
import { createBuildHost } from '@aoinb/testkit/build-host';

const runs = Number(process.argv[2] ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

const host = await createBuildHost();
try {
  const bundle = await host.exampleBundle('bench');
  // Warm-up: creates and refreshes the instance and fills the source cache.
  const warm = await runBuild(host.ctx, { buildId: 'warmup', bundleDir: bundle, branch: 'stable' });
  if (warm.status !== 'succeeded') throw new Error(`warm-up failed: ${warm.reason}`);
  const layout = layoutOf(host.ctx);
  const source = path.join(host.dir, 'source-copy');
  await mkdir(source, { recursive: true });
  await cp(host.source.tarball, path.join(source, path.basename(host.source.tarball)));

  const once = async (i: number, isolated: boolean): Promise<number> => {
    const dir = path.join(host.dir, `iso-${i}-${isolated ? 'on' : 'off'}`);
    const merged = path.join(dir, 'merged');
    await Promise.all(['upper', 'work', 'merged'].map((d) => mkdir(path.join(dir, d), { recursive: true })));
    await mountOverlay({
      lowers: [layout.instance('stable').upper, layout.baseos],
      upper: path.join(dir, 'upper'),
      work: path.join(dir, 'work'),
      target: merged,
    });
    try {
      await stageBundle(merged, bundle);
      await mkdir(path.join(merged, 'buildroot/sources'), { recursive: true });
      await cp(
        path.join(source, path.basename(host.source.tarball)),
        path.join(merged, 'buildroot/sources', path.basename(host.source.tarball)),
      );
      await writeFile(
        path.join(merged, 'buildroot/sources/manifest'),
        `archive\t${path.basename(host.source.tarball)}\n`,
      );
      const run: ContainerRun = {
        root: merged,
        machine: `aoinb-iso-${i}`,
        command: ['/bin/bash', '/buildroot/toolbox/build.sh'],
        chdir: '/buildroot',
        env: {
          AOINB_PKGNAME: 'hello-aoinb',
          AOINB_PKGVER: '1.0',
          AOINB_PKGREL: '0',
          AOINB_ARCH: host.ctx.config.arch,
          AOINB_KEEP_DBG: '1',
        },
        ...(isolated
          ? { network: 'private' as const, dropCapabilities: buildDropCapabilities }
          : { network: 'host' as const }),
      };
      const started = performance.now();
      const exit = await runContainer(run);
      if (exit.exitCode !== 0) throw new Error(`build.sh exited ${exit.exitCode} (isolated: ${isolated})`);
      return performance.now() - started;
    } finally {
      await unmountAllUnder(dir);
      await rm(dir, { recursive: true, force: true });
    }
  };

  const open: number[] = [];
  const isolated: number[] = [];
  const deps: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    open.push(await once(i, false));
    isolated.push(await once(i, true));
    const dir = path.join(host.dir, `deps-${i}`);
    const merged = path.join(dir, 'merged');
    await Promise.all(['upper', 'work', 'merged'].map((d) => mkdir(path.join(dir, d), { recursive: true })));
    await mountOverlay({
      lowers: [layout.instance('stable').upper, layout.baseos],
      upper: path.join(dir, 'upper'),
      work: path.join(dir, 'work'),
      target: merged,
    });
    const started = performance.now();
    const outcome = await installDependencies({
      merged,
      buildId: `deps-${i}`,
      names: ['make'],
      aptUpdate: false,
      extraArgs: [],
      onLine: () => undefined,
    });
    deps.push(performance.now() - started);
    await unmountAllUnder(dir);
    if (!outcome.ok) throw new Error(outcome.reason);
  }
  const [o, s, d] = [median(open), median(isolated), median(deps)];
  console.log(`isolation cost (${runs} runs each, alternately; example C program with the real autobuild4)`);
  console.log(`  host network, default capabilities   median ${fmt(o)}`);
  console.log(
    `  private network, dropped capabilities median ${fmt(s)}   difference ${fmt(s - o)}  ratio ${(s / o).toFixed(3)}x`,
  );
  console.log(`  dependency step (already installed)   median ${fmt(d)}   (two extra nspawn starts + apt no-ops)`);
} finally {
  await host.close();
}
