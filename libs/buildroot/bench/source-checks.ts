/**
 * Benchmark: what the host-side input checks cost.
 *
 *   node --import tsx libs/buildroot/bench/source-checks.ts [MiB] [runs]
 *
 * 1. Download: `download()` (destination checked after DNS, pinned lookup,
 *    manual redirects, size count, digest) of a MiB-sized file from a loopback
 *    server, against a bare `http.get` piped to a file with the same digest.
 * 2. git: `fetchGit()` (a clone through the checking proxy, clean environment)
 *    against a bare `git clone --mirror` + checkout of the same repository, both
 *    over dumb HTTP from loopback, with a fresh cache each run.
 * 3. Collection: `collectDebs()` (no-follow opens, copy from the descriptor,
 *    control check in-process by @aoinb/deb) of 5 real .debs against a plain copy of the same files.
 * Runs alternate, in one process; medians are printed with the ratio.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { parseSource } from '@aoinb/bundle';
import { serveFolder } from '@aoinb/testkit';
import { collectDebs } from '../src/pipeline/collect-debs.ts';
import { download } from '../src/sources/download.ts';
import { fetchGit } from '../src/sources/fetch-git.ts';

const mib = Number(process.argv[2] ?? 256);
const runs = Number(process.argv[3] ?? 5);
const work = await mkdtemp(path.join(tmpdir(), 'aoinb-bench-src-'));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function compare(
  label: string,
  checked: (i: number) => Promise<unknown>,
  bare: (i: number) => Promise<unknown>,
): Promise<void> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await timed(() => checked(i)));
    b.push(await timed(() => bare(i)));
  }
  const [ma, mb] = [median(a), median(b)];
  console.log(`${label}: checked ${fmt(ma)}, bare ${fmt(mb)}, ratio ${(ma / mb).toFixed(2)}x (+${fmt(ma - mb)})`);
}

try {
  const served = path.join(work, 'served');
  await mkdir(served);
  await execa('sh', ['-c', 'head -c "$1" /dev/urandom > "$2"', 'sh', `${mib}M`, path.join(served, 'big.tar')]);
  const repo = path.join(work, 'repo');
  await mkdir(repo);
  const g = (args: string[], cwd = repo) =>
    execa('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd });
  await g(['init', '-q', '-b', 'main']);
  for (let i = 0; i < 200; i++)
    await writeFile(path.join(repo, `f${i}.c`), `int f${i}(void) { return ${i}; }\n`.repeat(50));
  await g(['add', '.']);
  await g(['commit', '-q', '-m', 'bench']);
  await g(['clone', '-q', '--bare', repo, path.join(served, 'repo.git')], work);
  await g(['repack', '-a', '-d', '-q'], path.join(served, 'repo.git'));
  await g(['update-server-info'], path.join(served, 'repo.git'));
  const server = await serveFolder({ dir: served });
  const policy = {
    allow: [{ host: '127.0.0.1', port: server.port }],
    maxBytes: 64 * 1024 ** 3,
    timeoutMs: 600_000,
    stallMs: 60_000,
  };
  try {
    await compare(
      `download of ${mib} MiB`,
      (i) => download(`${server.url}/big.tar`, path.join(work, `checked-${i}`), policy),
      async (i) => {
        const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`${server.url}/big.tar`, resolve));
        const hash = createHash('sha256');
        res.on('data', (c: Buffer) => hash.update(c));
        await pipeline(res, createWriteStream(path.join(work, `bare-${i}`)));
        hash.digest('hex');
      },
    );
    const source = parseSource(`git::commit=main::${server.url}/repo.git`, 'SKIP', 'bench');
    await compare(
      'git clone of 200 files',
      async (i) => {
        await mkdir(path.join(work, `gc-${i}`, 'dest'), { recursive: true });
        await fetchGit(source, path.join(work, `gc-${i}`, 'cache'), path.join(work, `gc-${i}`, 'dest'), policy);
      },
      async (i) => {
        const dir = path.join(work, `gb-${i}`);
        await execa('git', ['clone', '-q', '--mirror', `${server.url}/repo.git`, path.join(dir, 'mirror.git')]);
        await execa('git', ['clone', '-q', path.join(dir, 'mirror.git'), path.join(dir, 'repo')]);
      },
    );
  } finally {
    await server.close();
  }
  const debs = path.join(work, 'debs');
  await mkdir(debs);
  for (let i = 0; i < 5; i++) {
    const root = path.join(work, `pkg${i}`);
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    await execa('sh', ['-c', 'head -c 4M /dev/urandom > "$1"', 'sh', path.join(root, 'blob')]);
    await writeFile(
      path.join(root, 'DEBIAN/control'),
      `Package: p${i}\nVersion: 1.0-0\nArchitecture: amd64\nMaintainer: b <b@b>\nDescription: b\n`,
    );
    await execa('dpkg-deb', [
      '--root-owner-group',
      '-Zgzip',
      '--build',
      root,
      path.join(debs, `p${i}_1.0-0_amd64.deb`),
    ]);
  }
  const rules = {
    arch: 'amd64',
    upstreamVersion: '1.0',
    release: '0',
    packages: [0, 1, 2, 3, 4].map((i) => ({ name: `p${i}`, epoch: '', noarch: false })),
  };
  const names = [0, 1, 2, 3, 4].map((i) => `p${i}_1.0-0_amd64.deb`);
  await compare(
    'collection of 5 debs (4 MiB each)',
    async (i) => {
      const merged = path.join(work, `m-${i}`);
      await mkdir(path.join(merged, 'buildroot'), { recursive: true });
      await execa('cp', ['-r', debs, path.join(merged, 'buildroot/output')]);
      await collectDebs(merged, path.join(work, `out-c-${i}`), rules);
    },
    async (i) => {
      const merged = path.join(work, `n-${i}`);
      await mkdir(path.join(merged, 'buildroot'), { recursive: true });
      await execa('cp', ['-r', debs, path.join(merged, 'buildroot/output')]);
      await mkdir(path.join(work, `out-b-${i}`));
      for (const n of names) await copyFile(path.join(merged, 'buildroot/output', n), path.join(work, `out-b-${i}`, n));
    },
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
