/**
 * Benchmark: what a bundle upload costs the process that extracts it (the coordinator's one
 * thread), paired in one run, alternating: the step the extraction used to end with, a GNU
 * `tar -x` started for the checked archive, against the in-process writer that replaced it
 * (tar-extract.ts), and the whole extractBundleArchive() now. Per operation: wall time and the
 * event loop's busy time (`eventLoopUtilization`), the time no other request can run. The
 * process holds `ballast` MiB of touched memory, about the coordinator's size under load, since
 * a process start copies the parent's page tables.
 *
 *   node --import tsx libs/bundle/bench/extract.ts [rounds=200] [ballast_mib=200]
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { extractBundleArchive } from '../src/bundle-archive.ts';
import { writeTarMembers } from '../src/tar-extract.ts';
import { readTarEntries } from '../src/tar-headers.ts';
import { craftTar } from '../test-support/test-tar.ts';

const rounds = Number(process.argv[2] ?? 200);
const ballast = Buffer.alloc(Number(process.argv[3] ?? 200) * 1024 * 1024, 1);
const work = await mkdtemp(path.join(tmpdir(), 'aoinb-extract-bench-'));
// The scale benchmark's bundle (apps/coordinator/bench/scale-load.ts): spec, defines, a fake-build file.
const tarFile = path.join(work, 'bundle.tar');
await writeFile(
  tarFile,
  craftTar([
    { name: 'spec', data: 'VER=1.0\nDUMMYSRC=1\n' },
    { name: 'autobuild/', type: '5', mode: 0o755 },
    { name: 'autobuild/defines', data: 'PKGNAME=scale-1\nPKGSEC=utils\nPKGDES="scale benchmark"\n' },
    { name: 'fake-build.json', data: '{"durationMs":500,"lines":3}' },
  ]),
);
const archive = await readFile(tarFile);
const entries = await readTarEntries(tarFile, 100);

type Op = (dir: string) => Promise<unknown>;
const ops: Record<string, Op> = {
  'tar -x started (the old last step)': (dir) =>
    mkdir(dir).then(() => execa('tar', ['-x', '-f', tarFile, '-C', dir, '--no-same-owner', '--no-same-permissions'])),
  'in-process writer (its replacement)': (dir) => mkdir(dir).then(() => writeTarMembers(tarFile, entries, dir)),
  'extractBundleArchive() now (all of it)': (dir) => extractBundleArchive(archive, dir),
};
const times = new Map<string, { wall: number[]; busy: number[] }>(
  Object.keys(ops).map((k) => [k, { wall: [], busy: [] }]),
);
let n = 0;
for (let r = 0; r < rounds; r++) {
  for (const [name, op] of Object.entries(ops)) {
    const dir = path.join(work, `out-${n++}`);
    const elu = performance.eventLoopUtilization();
    const t0 = performance.now();
    await op(dir);
    const wall = performance.now() - t0;
    const busy = performance.eventLoopUtilization(elu).active;
    times.get(name)!.wall.push(wall);
    times.get(name)!.busy.push(busy);
    await rm(dir, { recursive: true, force: true });
  }
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const p99 = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.ceil(v.length * 0.99) - 1]!;
const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
console.log(`${rounds} rounds, ${ballast.length >> 20} MiB ballast, load average ${load}`);
console.log('| per operation | wall p50 | wall p99 | event loop busy p50 | busy p99 |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, t] of times)
  console.log(
    `| ${name} | ${median(t.wall).toFixed(2)} ms | ${p99(t.wall).toFixed(2)} ms | ${median(t.busy).toFixed(2)} ` +
      `ms | ${p99(t.busy).toFixed(2)} ms |`,
  );
await rm(work, { recursive: true, force: true });
