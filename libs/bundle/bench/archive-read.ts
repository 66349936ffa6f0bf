/**
 * Benchmark: reading an uploaded bundle archive (the step before its members are written), paired in
 * one run, alternating: from files (readHead, gunzip to archive.tar, the tar sniffed and its headers read
 * from that file, as every upload did) against in memory (one read, gunzip in memory: what a bundle-sized
 * plain or gzip upload takes now, bundle-archive.ts). Per read: the process's CPU time (main thread, its
 * thread pool, GC) and wall time, medians.
 *
 *   node --import tsx libs/bundle/bench/archive-read.ts [rounds=300]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_ARCHIVE_LIMITS } from '../src/archive-validate.ts';
import { tarFromFile, tarInMemory } from '../src/bundle-archive.ts';
import { craftTar } from '../test-support/test-tar.ts';

const rounds = Number(process.argv[2] ?? 300);
const work = await mkdtemp(path.join(tmpdir(), 'aoinb-archive-read-'));
// The scale benchmark's bundle (apps/coordinator/bench/scale-load.ts), gzip as `aoinb submit` packs it.
const archive = path.join(work, 'bundle.tar.gz');
await writeFile(
  archive,
  gzipSync(
    craftTar([
      { name: 'spec', data: 'VER=1.0\nDUMMYSRC=1\n' },
      { name: 'autobuild/', type: '5' },
      { name: 'autobuild/defines', data: 'PKGNAME=scale-1\nPKGSEC=utils\nPKGDES="scale benchmark"\n' },
      { name: 'fake-build.json', data: '{"durationMs":500,"lines":3}' },
    ]),
  ),
);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const runs = {
  files: { cpu: [] as number[], wall: [] as number[] },
  memory: { cpu: [] as number[], wall: [] as number[] },
};
try {
  for (let i = 0; i < rounds; i++) {
    for (const kind of i % 2 === 0 ? (['files', 'memory'] as const) : (['memory', 'files'] as const)) {
      const tmp = await mkdtemp(path.join(work, 'r-'));
      const [c, t] = [cpuMs(), performance.now()];
      if (kind === 'files') await tarFromFile(archive, tmp, DEFAULT_ARCHIVE_LIMITS);
      else await tarInMemory(archive, DEFAULT_ARCHIVE_LIMITS);
      runs[kind].cpu.push(cpuMs() - c);
      runs[kind].wall.push(performance.now() - t);
      await rm(tmp, { recursive: true, force: true });
    }
  }
  for (const [kind, r] of Object.entries(runs))
    process.stdout.write(
      `${kind.padEnd(7)} CPU p50 ${median(r.cpu).toFixed(2)} ms  wall p50 ${median(r.wall).toFixed(2)} ms\n`,
    );
} finally {
  await rm(work, { recursive: true, force: true });
}
