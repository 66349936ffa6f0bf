/**
 * What one start of each process the tests start costs, built (what the harness runs since the tests start
 * the build, docs/contributing.md "Build") against the same entry point through tsx, paired in rounds:
 *   node --import tsx scripts/build-apps.ts --test-entries
 *   node --import tsx libs/farm-harness/bench/app-starts.ts [runs=9]
 * Each start is `--help`: the coordinator's and worker's entry points load their whole module graph (static
 * imports) before they read their options, so this is a start without the config and the connections. CPU
 * is the child's user + system time (the shell's `times`), which is what a CPU-bound test run pays; each
 * ratio is taken within a round, the figures are medians over the rounds after one warm-up round.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { median } from '@aoinb/testkit';

const root = path.resolve(import.meta.dirname, '../../..');
const tsx = ['--import', 'tsx'];
const starts = {
  coordinator: { built: ['apps/coordinator/dist/main.js'], tsx: [...tsx, 'apps/coordinator/src/main.ts'] },
  worker: { built: ['apps/worker/dist/main.js'], tsx: [...tsx, 'apps/worker/src/main.ts'] },
  'fake worker': {
    built: ['apps/worker/test-support/dist/main.js'],
    tsx: [...tsx, 'apps/worker/test-support/fake-worker-main.ts'],
  },
  cli: { built: ['apps/cli/bin/aoinb.js'], tsx: ['apps/cli/bin/aoinb-dev.js'] },
} as const;
type Start = keyof typeof starts;

/** One start: wall ms and the child's CPU ms (user + system, from the shell's `times`). */
function timeOnce(args: readonly string[]): { wallMs: number; cpuMs: number } {
  const started = process.hrtime.bigint();
  // The command as the script's arguments ("$@"): no quoting of paths into the script's text.
  const script = '"$@" >/dev/null || exit; times';
  const run = spawnSync('bash', ['-c', script, 'bash', process.execPath, ...args, '--help'], {
    cwd: root,
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`${args.join(' ')} --help exited ${run.status}: ${run.stderr}`);
  // `times`: the shell's own user/sys, then its children's, as "0m0.512s 0m0.104s".
  const children = run.stdout.trim().split('\n').at(-1)!;
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { wallMs, cpuMs: (seconds[0]! + seconds[1]!) * 1000 };
}

const runs = Number(process.argv[2] ?? 9);
for (const file of Object.values(starts).map((s) => s.built[0])) {
  if (!existsSync(path.join(root, file))) {
    console.error(`app-starts: ${file} is missing: run scripts/build-apps.ts --test-entries first`);
    process.exit(1);
  }
}
console.log(`one start (--help) of each process the tests start, median of ${runs} rounds (node ${process.version})`);
console.log(`  ${'process'.padEnd(12)} ${'built cpu'.padStart(10)} ${'tsx cpu'.padStart(9)}  cpu ratio  wall ratio`);
for (const name of Object.keys(starts) as Start[]) {
  const { built, tsx: viaTsx } = starts[name];
  timeOnce(built);
  timeOnce(viaTsx); // warm-up: the disk cache, tsx's transform cache
  const rounds = Array.from({ length: runs }, () => ({ built: timeOnce(built), tsx: timeOnce(viaTsx) }));
  const cpu = median(rounds.map((r) => r.built.cpuMs));
  const cpuTsx = median(rounds.map((r) => r.tsx.cpuMs));
  const cpuRatio = median(rounds.map((r) => r.built.cpuMs / r.tsx.cpuMs));
  const wallRatio = median(rounds.map((r) => r.built.wallMs / r.tsx.wallMs));
  console.log(
    `  ${name.padEnd(12)} ${cpu.toFixed(0).padStart(7)} ms ${cpuTsx.toFixed(0).padStart(6)} ms` +
      `  ${cpuRatio.toFixed(2).padStart(8)}x  ${wallRatio.toFixed(2).padStart(9)}x`,
  );
}
