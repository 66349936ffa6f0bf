import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildStepMarker, type BuildArtifact, type BuildRequest, type BuildResult } from '@aoinb/buildroot';
import { sleep } from '@aoinb/farm-protocol';
import { sha256File } from '@aoinb/testkit';
import type { Executor, PackageHints } from '../src/executor.ts';
import { startFakeSampler } from './fake-resources.ts';

/** What a fake build does; defaults come from the options, a bundle may override them in `fake-build.json`. */
export interface FakeBuildPlan {
  durationMs: number;
  /** Log lines written in total. */
  lines: number;
  /** Pace of the lines; 0 = all at once at the start. */
  linesPerSecond: number;
  /** Append ` t=<epoch ms>` to each line (the log latency benchmark reads it). */
  timestamps: boolean;
  /** When set, the build fails with this reason. */
  fail?: string;
  /** With `fail`: fail only in these runs (1 = the first; a retry makes run 2), so a retry can succeed. */
  failRuns?: number[];
  /** Resource samples (of the agent process itself) every this many ms; 0 = only one at the end. */
  sampleIntervalMs: number;
  /** Print the real pipeline's first line of the package's build step (buildStepMarker) before the others. */
  buildStepLine?: boolean;
  /**
   * After its lines, the build waits while this host path is missing (or until aborted): a test holds a build
   * running until it has seen what it needs (another build started, a disk filled), instead of guessing a
   * duration that a loaded machine may outlast.
   */
  holdUntilFile?: string;
}

const defaults: FakeBuildPlan = {
  durationMs: 300,
  lines: 5,
  linesPerSecond: 0,
  timestamps: false,
  sampleIntervalMs: 100,
};

async function planFor(bundleDir: string, base: FakeBuildPlan): Promise<FakeBuildPlan> {
  try {
    const text = await readFile(path.join(bundleDir, 'fake-build.json'), 'utf8');
    return { ...base, ...(JSON.parse(text) as Partial<FakeBuildPlan>) };
  } catch {
    return base;
  }
}

/**
 * The run in a worker's build id: `t<task>-<arch>-r<run>-a<attempt>`, or
 * the round in a sequence's `s<group>-<arch>-r<round>-t<task>-a<attempt>`.
 */
function runOf(buildId: string): number {
  return Number(/-r(\d+)-(?:t\d+-)?a\d+$/.exec(buildId)?.[1] ?? 0);
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

async function emitLines(
  plan: FakeBuildPlan,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const start = now();
  let written = 0;
  const line = (i: number): string =>
    plan.timestamps ? `fake build line ${i} t=${now().toFixed(3)}` : `fake build line ${i}`;
  while (written < plan.lines && !signal?.aborted) {
    const due =
      plan.linesPerSecond > 0
        ? Math.min(plan.lines, Math.floor(((now() - start) / 1000) * plan.linesPerSecond) + 1)
        : plan.lines;
    while (written < due) onLine(line(written++));
    if (written < plan.lines) await sleep(2, signal);
  }
}

/** Resolves once `file` exists, or at once when the signal aborts. */
async function holdUntil(file: string, signal: AbortSignal | undefined): Promise<void> {
  const present = (): Promise<boolean> =>
    access(file).then(
      () => true,
      () => false,
    );
  while (!signal?.aborted && !(await present())) await sleep(20, signal);
}

/** A tiny but real .deb, made with dpkg-deb, named as autobuild names them. */
async function makeDeb(pkg: PackageHints, arch: string, outputDir: string): Promise<BuildArtifact> {
  const debArch = pkg.noarch ? 'all' : arch;
  const fileArch = pkg.noarch ? 'noarch' : arch;
  const staging = await mkdtemp(path.join(outputDir, '.staging-'));
  try {
    await mkdir(path.join(staging, 'DEBIAN'));
    await mkdir(path.join(staging, 'usr/share/doc', pkg.name), { recursive: true });
    await writeFile(
      path.join(staging, 'usr/share/doc', pkg.name, 'built-by-aoinb-fake'),
      `${pkg.name} ${pkg.version}\n`,
    );
    const control = [
      `Package: ${pkg.name}`,
      `Version: ${pkg.version}`,
      `Architecture: ${debArch}`,
      'Maintainer: aoinb fake executor <aoinb@localhost>',
      'Section: misc',
      `Description: ${pkg.name} built by the aoinb fake executor`,
      '',
    ];
    await writeFile(path.join(staging, 'DEBIAN/control'), control.join('\n'));
    const name = `${pkg.name}_${pkg.version.replace(/^\d+:/, '')}_${fileArch}.deb`;
    const file = path.join(outputDir, name);
    await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', staging, file]);
    return { file, name, size: (await stat(file)).size, sha256: await sha256File(file) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Sleeps, writes log lines and produces one real .deb: for scheduler
 * tests and benchmarks, never instead of the real pipeline's own tests.
 */
export function fakeExecutor(options: Partial<FakeBuildPlan> = {}): Executor {
  const base = { ...defaults, ...options };
  return {
    name: 'fake',
    async run(request: BuildRequest, pkg: PackageHints): Promise<BuildResult> {
      const startedAt = new Date().toISOString();
      const t0 = Date.now();
      const plan = await planFor(request.bundleDir, base);
      const outputDir = request.outputDir ?? path.join(path.dirname(request.bundleDir), 'output');
      await mkdir(outputDir, { recursive: true });
      const arch = request.arch ?? 'amd64';
      const onLine = request.onLogLine ?? (() => undefined);
      const sampler = startFakeSampler(request.onSample, plan.sampleIntervalMs);
      for (const source of request.extraAptSources ?? [])
        onLine(
          `[aoinb] extra apt source ${source.name}: ${source.line} ` +
            `(pin ${source.pin ?? 'origin'} ${source.pinPriority ?? ''})`,
        );
      if (plan.buildStepLine) onLine(`${buildStepMarker} ${pkg.name} ${pkg.version} (${arch})`);
      await emitLines(plan, onLine, request.signal);
      if (plan.holdUntilFile) await holdUntil(plan.holdUntilFile, request.signal);
      await sleep(Math.max(0, plan.durationMs - (Date.now() - t0)), request.signal);
      let status: BuildResult['status'] = 'succeeded';
      let reason: string | undefined;
      const artifacts: BuildArtifact[] = [];
      if (request.signal?.aborted) [status, reason] = ['cancelled', 'cancelled'];
      else if (plan.fail && (!plan.failRuns || plan.failRuns.includes(runOf(request.buildId))))
        [status, reason] = ['failed', plan.fail];
      else
        artifacts.push(
          await makeDeb(pkg, arch, outputDir).catch((error: unknown) => (sampler.stop(), Promise.reject(error))),
        );
      onLine(`[aoinb] ${status}${reason ? `: ${reason}` : ''}`);
      return {
        buildId: request.buildId,
        status,
        ...(reason ? { reason } : {}),
        package: { name: pkg.name, version: pkg.version, arch: pkg.noarch ? 'noarch' : arch },
        branch: request.branch,
        artifacts,
        logFile: '',
        recordFile: '',
        startedAt,
        finishedAt: new Date().toISOString(),
        phases: { build: Date.now() - t0 },
        resources: sampler.stop(),
      };
    },
  };
}
