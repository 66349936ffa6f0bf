/**
 * Benchmark: builds that start warm (issue 14), side by side in one run.
 *
 *   node --import tsx libs/buildroot/bench/warm-builds.ts
 *
 * 1. A real package with heavy BUILDDEP, cold then warm: AOSC's app-admin/aardvark-dns
 *    (BUILDDEP="llvm rustc", as Debian trixie names: llvm-dev rustc cargo) on the test
 *    base OS, packages from the Debian mirror. For each build, from the claim to the
 *    first line of the package's own build step, in two parts measured one after the
 *    other: the worker's intake after its claim (bundle-intake.ts: the bundle fetched
 *    over HTTP with its SHA256 checked, then extracted, as the worker does), and
 *    `runBuild()` start to the first line of build.sh in the container (the build is
 *    then cancelled: what follows is not what this measures); their sum; the
 *    dependency phase alone; and the bytes apt downloaded ("Fetched" lines). Runs:
 *    cold (empty apt cache, no layer), warm (the layer made by the cold build), and
 *    apt cache only (layers off): what the shared cache alone saves.
 *    Targets: warm dependency setup < 1 s whatever the size of the set; nothing
 *    downloaded twice on one host.
 * 2. Discard of a workspace holding 1 GiB in 16,384 files, mounted volatile and not.
 *    Target: < 0.1 s.
 * 3. Instance refresh: the first (lists fetched, full-upgrade) against one where
 *    nothing changed on the mirror (conditional fetches, no upgrade).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildrootContext } from '../src/context.ts';
import { layoutOf } from '../src/context.ts';
import { runBuild } from '../src/pipeline/run-build.ts';
import { buildStepMarker } from '../src/pipeline/build-step-marker.ts';
import { leaseInstance } from '../src/layers/instance.ts';
import { overlayVolatileSupport } from '../src/layers/volatile-support.ts';
import { writeFakeBundleAt } from '@aoinb/testkit';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { serveBundle, type BundleServer } from './bundle-intake.ts';
import { measureDiscard } from './discard-measure.ts';

const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };

/** Sums apt's `Fetched 203 MB in 9s (21.4 MB/s)` lines. */
function fetchedBytes(lines: string[]): number {
  return lines
    .map((line) => /^Fetched ([\d,.]+) (B|kB|MB|GB) in /.exec(line))
    .filter((m) => m !== null)
    .reduce((sum, m) => sum + Number(m[1]!.replaceAll(',', '')) * units[m[2]!]!, 0);
}

// The real spec's SRCS is on GitHub, which this machine cannot reach; the build is
// cancelled at its first line anyway, so the source does not matter here.
const heavyBundle = (dir: string): Promise<string> =>
  writeFakeBundleAt(dir, {
    name: 'aardvark-dns',
    version: '1.9.0',
    defines: ['BUILDDEP="llvm-dev rustc cargo"', 'ABTYPE=self'],
    build: ['mkdir -p "$PKGDIR"/usr/bin'],
  });

interface StartFigures {
  intakeMs: number;
  toBuildMs: number;
  dependenciesMs: number;
  fetched: number;
  note: string;
}

/** The worker's intake of the bundle, then runBuild() until build.sh prints its first line, then cancel. */
async function timeToBuildStep(ctx: BuildrootContext, buildId: string, server: BundleServer): Promise<StartFigures> {
  const intake = await server.fetchInto(path.join(layoutOf(ctx).root, 'bench-intake', buildId));
  const bundle = intake.bundleDir;
  const stop = new AbortController();
  const lines: string[] = [];
  let firstBuildLine: number | undefined;
  const started = performance.now();
  const result = await runBuild(ctx, {
    buildId,
    bundleDir: bundle,
    branch: 'stable',
    signal: stop.signal,
    onLogLine: (line) => {
      lines.push(line);
      if (firstBuildLine === undefined && line.startsWith(buildStepMarker)) {
        firstBuildLine = performance.now() - started;
        stop.abort();
      }
    },
  });
  if (firstBuildLine === undefined) throw new Error(`${buildId}: ${result.reason}\n${lines.slice(-40).join('\n')}`);
  const note = lines.find((l) => /dependency layer|already in the instance/.test(l)) ?? 'installed into the workspace';
  return {
    intakeMs: intake.ms,
    toBuildMs: firstBuildLine,
    dependenciesMs: result.phases.dependencies ?? 0,
    fetched: fetchedBytes(lines),
    note,
  };
}

async function coldWarm(host: BuildHost): Promise<void> {
  const server = await serveBundle(await heavyBundle(path.join(host.dir, 'aardvark-dns')));
  const cacheOnlyCtx = {
    ...host.ctx,
    config: { ...host.ctx.config, build: { ...host.ctx.config.build, depLayersMib: 0 } },
  };
  let runs: [string, StartFigures][];
  try {
    const cold = await timeToBuildStep(host.ctx, 'heavy-cold', server);
    const warm = await timeToBuildStep(host.ctx, 'heavy-warm', server);
    runs = [
      ['cold', cold],
      ['warm (layer)', warm],
      ['apt cache only', await timeToBuildStep(cacheOnlyCtx, 'heavy-cache-only', server)],
    ];
  } finally {
    await server.close();
  }
  console.log('aardvark-dns (BUILDDEP llvm-dev rustc cargo): claim to the first line of build.sh');
  for (const [name, f] of runs)
    console.log(
      `  ${name.padEnd(15)} intake ${fmt(f.intakeMs)} + runBuild to build step ${fmt(f.toBuildMs).padStart(9)} = ` +
        `${fmt(f.intakeMs + f.toBuildMs).padStart(9)}  dependencies ${fmt(f.dependenciesMs).padStart(9)}  ` +
        `downloaded ${mb(f.fetched).padStart(9)}  (${f.note.replace(/^\[aoinb\] /, '')})`,
    );
  const [[, cold], [, warm]] = runs as [[string, StartFigures], [string, StartFigures]];
  console.log(
    `  warm dependency setup ${fmt(warm.dependenciesMs)} (target < 1 ` +
      `s); ${(cold.dependenciesMs / Math.max(warm.dependenciesMs, 1)).toFixed(0)}x faster than cold`,
  );
}

async function discard(host: BuildHost): Promise<void> {
  const layout = layoutOf(host.ctx);
  const support = await overlayVolatileSupport(layout);
  for (const volatile of support.volatile ? [true, false] : [false])
    await measureDiscard(layout, `discard-${volatile ? 'volatile' : 'plain'}`, { volatile });
  if (!support.volatile) console.log(`  (overlay volatile unavailable: ${support.reason})`);
}

async function timedRefresh(host: BuildHost): Promise<{ ms: number; lines: string[] }> {
  const layout = layoutOf(host.ctx);
  await mkdir(layout.instance('stable').dir, { recursive: true });
  await writeFile(layout.instance('stable').stamp, JSON.stringify({ startedAt: 0 }));
  const lines: string[] = [];
  const sourceList = path.join(host.configDir, 'source_lists/stable.list');
  const started = performance.now();
  const lease = await leaseInstance(host.ctx, 'stable', sourceList, Date.now(), { onLine: (l) => lines.push(l) });
  const ms = performance.now() - started;
  await lease.release();
  return { ms, lines };
}

const host = await createBuildHost();
try {
  const first = await timedRefresh(host);
  await coldWarm(host);
  const again = await timedRefresh(host);
  console.log('instance refresh (apt update; full-upgrade only when the lists changed)');
  console.log(`  first refresh           ${fmt(first.ms)}  downloaded ${mb(fetchedBytes(first.lines))}`);
  const unchanged = again.lines.some((l) => l.includes('nothing to upgrade'));
  console.log(
    `  refresh, nothing new    ${fmt(again.ms)}  downloaded ${mb(fetchedBytes(again.lines))}  ` +
      (unchanged ? '(lists unchanged: no upgrade)' : '(the mirror changed: upgraded)'),
  );
  await discard(host);
} finally {
  await host.close();
}
