/**
 * How long `aoinb --help` takes to start, built (bin/aoinb.js, what users run) and from the
 * sources through tsx (bin/aoinb-dev.js), against bare `node -e ''` in the same rounds:
 *   npm run build && node --import tsx apps/cli/bench/startup.ts [runs=15]
 * Each round runs the three in turn, so a ratio compares runs made moments apart on a
 * shared machine; the figures are medians over the rounds, after one warm-up round.
 * Target (docs/benchmarks.md): the built CLI within 2x of bare node.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { median } from '@aoinb/testkit';

const bin = path.resolve(import.meta.dirname, '../bin');
const commands = {
  node: ['-e', ''],
  built: [path.join(bin, 'aoinb.js'), '--help'],
  tsx: [path.join(bin, 'aoinb-dev.js'), '--help'],
} as const;
type Name = keyof typeof commands;

function timeOnce(args: readonly string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr.toString()}`);
  return ms;
}

const runs = Number(process.argv[2] ?? 15);
if (!existsSync(path.resolve(import.meta.dirname, '../dist/main.js'))) {
  console.error('startup: apps/cli/dist is missing: run `npm run build` first');
  process.exit(1);
}
for (const args of Object.values(commands)) timeOnce(args); // warm-up: disk cache, tsx's transform cache
const times: Record<Name, number[]> = { node: [], built: [], tsx: [] };
const ratios: Record<'built' | 'tsx', number[]> = { built: [], tsx: [] };
for (let round = 0; round < runs; round++) {
  const t = { node: timeOnce(commands.node), built: timeOnce(commands.built), tsx: timeOnce(commands.tsx) };
  for (const name of Object.keys(times) as Name[]) times[name].push(t[name]);
  ratios.built.push(t.built / t.node);
  ratios.tsx.push(t.tsx / t.node);
}
console.log(`aoinb --help startup, wall ms, median of ${runs} rounds (node ${process.version})`);
for (const name of Object.keys(times) as Name[]) {
  const ratio = name === 'node' ? '' : `  ${median(ratios[name]).toFixed(2)}x node`;
  const label = { node: "node -e ''", built: 'aoinb --help (built)', tsx: 'aoinb --help (tsx)' }[name];
  console.log(`  ${label.padEnd(22)} ${median(times[name]).toFixed(0).padStart(6)} ms${ratio}`);
}
