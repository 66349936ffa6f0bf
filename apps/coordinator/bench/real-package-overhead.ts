/**
 * Benchmark: the farm's overhead on a real build.
 *
 *   node --import tsx apps/coordinator/bench/real-package-overhead.ts [runs] [category/name]
 *
 * One real package of the ABBS snapshot (default app-multimedia/mpd-mpc, meson;
 * any package of apps/coordinator/src/real-packages/overlay.toml) built, in turn
 * A B A B ... after one warm-up of each, by:
 *   A. `aoinb submit BUNDLE` on a farm (coordinator + one nspawn worker agent as
 *      processes, real redis-server), timed as the whole CLI command: pack and
 *      upload, queue, source fetch (cached after the warm-up), workspace, build.sh
 *      (unpack + autobuild), collection, upload and publication of the .debs;
 *   B. bare autobuild4 in a ready container: systemd-nspawn on an overlay of the
 *      same test base OS, with the same sources.list and maintainer, apt lists
 *      refreshed, the source unpacked and autobuild/ in place beforehand; timed
 *      is the nspawn run of `autobuild` alone.
 * Both install the build dependencies with autobuild4's own apt-get build-dep.
 * Prints medians and the ratio A/B of each pair.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { loadBundle } from '@aoinb/bundle';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import {
  defaultTestkitCacheDir,
  fetchDebianOrig,
  mountOverlayFixture,
  readDebianMirror,
  runInNspawn,
} from '@aoinb/testkit';
import { prepareRealPackages, type PreparedPackage } from '../src/real-packages/prepare.ts';
import { FarmHarness, farmTokens } from '@aoinb/farm-harness';

const runs = Number(process.argv[2] ?? 3);
const only = process.argv[3] ?? 'app-multimedia/mpd-mpc';
const cli = fileURLToPath(new URL('../../cli/bin/aoinb.js', import.meta.url));
const maintainer = 'aoinb benchmark <bench@aoinb.invalid>';
const buildToml = `[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 1\nmaintainer = "${maintainer}"`;

async function farmBuild(farm: FarmHarness, p: PreparedPackage): Promise<number> {
  const env = { AOINB_URL: farm.coordinatorUrl, AOINB_TOKEN: farmTokens.maintainer };
  const started = performance.now();
  const run = await execa(process.execPath, [cli, 'submit', p.bundleDir, '--branch', 'stable'], {
    env,
    reject: false,
    all: true,
  });
  const elapsed = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`aoinb submit failed:\n${run.all}`);
  return elapsed;
}

async function bareBuild(host: BuildHost, p: PreparedPackage, tarball: string): Promise<number> {
  const overlay = await mountOverlayFixture({ lower: host.baseos.rootfsDir, parentDir: host.dir });
  try {
    const root = overlay.merged;
    await writeFile(path.join(root, 'etc/apt/sources.list'), host.baseos.sourcesList);
    const cfg = path.join(root, 'etc/autobuild/ab4cfg.sh');
    await execa('sed', ['-i', `s|^MTER=.*|MTER="${maintainer}"|`, cfg]);
    await mkdir(path.join(root, 'src'), { recursive: true });
    await execa('tar', ['-xf', tarball, '-C', path.join(root, 'src'), '--no-same-owner']);
    const top = (await execa('sh', ['-c', 'ls -d "$1"/*/ | head -n 1', 'top', path.join(root, 'src')])).stdout.trim();
    await execa('mv', [top, path.join(root, 'build')]);
    await cp(path.join(p.bundleDir, 'autobuild'), path.join(root, 'build/autobuild'), { recursive: true });
    const refreshed = await runInNspawn({ root, command: ['apt-get', 'update', '-q'] });
    if (refreshed.exitCode !== 0) throw new Error(`apt-get update failed:\n${refreshed.all}`);
    const spec = (await loadBundle(p.bundleDir, host.baseos.arch)).spec;
    const env = {
      PKGVER: spec.version,
      PKGREL: spec.release,
      ARCH: host.baseos.arch,
      DEBIAN_FRONTEND: 'noninteractive',
    };
    const started = performance.now();
    const run = await runInNspawn({ root, chdir: '/build', command: ['autobuild'], env });
    const elapsed = performance.now() - started;
    if (run.exitCode !== 0) throw new Error(`bare autobuild failed:\n${run.all.slice(-4000)}`);
    return elapsed;
  } finally {
    await overlay.unmount();
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function measure(host: BuildHost, farm: FarmHarness, p: PreparedPackage): Promise<void> {
  const { mirror } = await readDebianMirror();
  const orig = await fetchDebianOrig(
    { suite: p.pkg.suite, source: p.pkg.source, version: p.pkg.version, file: p.pkg.orig },
    { mirror, cacheDir: defaultTestkitCacheDir },
  );
  await farm.startCoordinator();
  await farm.startWorker({
    id: 'bench-1',
    archs: [host.baseos.arch],
    executor: 'nspawn',
    workDir: host.workDir,
    lockSeconds: 30,
  });
  console.log(`${p.pkg.path} (${p.pkg.kind}): warm-up of each, then ${runs} pairs`);
  await farmBuild(farm, p);
  await bareBuild(host, p, orig.path);
  const farmTimes: number[] = [];
  const bareTimes: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    farmTimes.push(await farmBuild(farm, p));
    bareTimes.push(await bareBuild(host, p, orig.path));
    console.log(
      `  pair ${i + 1}: farm ${s(farmTimes[i]!)}  bare ${s(bareTimes[i]!)}  ` +
        `ratio ${(farmTimes[i]! / bareTimes[i]!).toFixed(2)}`,
    );
  }
  const ratios = farmTimes.map((f, i) => f / bareTimes[i]!);
  const row = (name: string, v: number[]) =>
    console.log(`${name} median ${s(median(v))}  min ${s(Math.min(...v))}  max ${s(Math.max(...v))}`);
  row('aoinb submit on the farm  ', farmTimes);
  row('bare autobuild4 (nspawn)  ', bareTimes);
  console.log(
    `overhead                   median ${s(median(farmTimes) - median(bareTimes))}  ratio farm/bare: ` +
      `median ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, ` +
      `max ${Math.max(...ratios).toFixed(2)})`,
  );
}

const host = await createBuildHost({ extraToml: buildToml });
const real = await prepareRealPackages({
  dir: path.join(host.dir, 'real-bundles'),
  arch: host.baseos.arch,
  only: [only],
});
// The .orig is served on loopback, which the worker refuses to fetch from unless allowlisted.
const farm = await FarmHarness.create({
  archs: [host.baseos.arch],
  sourceLists: { stable: host.baseos.sourcesList },
  extraToml: buildToml,
  sourceAllow: [`127.0.0.1:${real.server.port}`],
});
try {
  const p = real.packages[0];
  if (!p) throw new Error(`${only} is not in overlay.toml`);
  await measure(host, farm, p);
} finally {
  await farm.stop();
  await real.close();
  await host.close();
}
