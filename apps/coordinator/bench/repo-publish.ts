/**
 * Publish latency of one real .deb into a branch repository holding 1k, 10k and
 * 100k packages, side by side, with the full index rewrite (what every publish
 * cost before: Packages + Packages.gz regenerated) as the baseline of the same run.
 * Columns split a publish: index work (append + Release), reading the deb
 * (its control in-process + sha256, the same for any repository) and signing
 * (in-process; gpg's two runs on the same Release beside it, as before), and
 * the reader of before beside it on the same debs (`dpkg-deb --field` + sha256,
 * one process start per deb; "publish before" swaps it in, publish by publish), and
 * time a coordinator start: from the saved index state, and rebuilt from Packages.
 *   node --import tsx apps/coordinator/bench/repo-publish.ts [publishes-per-size]
 * The repositories are seeded with real control stanzas: Debian bookworm's own
 * Packages index from this machine's apt lists (63k packages; beyond that the
 * stanzas repeat under suffixed names). Seeded debs are not on disk: a publish
 * never opens them, which is the point. The published debs are real (dpkg-deb).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { silentLogger } from '@aoinb/logging';
import { AptRepo } from '../src/repo/apt-repo.ts';
import { readDebFacts, sha256OfFile } from '../src/repo/deb-facts.ts';
import { RepoSigner } from '../src/repo/repo-signer.ts';
import { makeTestDeb } from '../src/repo/repo-test-debs.ts';
import { storageLayout } from '../src/storage/storage-layout.ts';

const sizes = [1_000, 10_000, 100_000];
const publishes = Number(process.argv[2] ?? 30);

function debianStanzas(): string[] {
  const lists = '/var/lib/apt/lists';
  const file = readdirSync(lists).find(
    (f) => /_main_binary-[a-z0-9]+_Packages(\.\w+)?$/.test(f) && !f.includes('security') && !f.includes('updates'),
  );
  if (!file) throw new Error(`no Debian main Packages index in ${lists} (run apt-get update)`);
  const text = execFileSync('/usr/lib/apt/apt-helper', ['cat-file', path.join(lists, file)], {
    maxBuffer: 1 << 30,
  }).toString();
  return text.split(/\n\n+/).filter((s) => s.startsWith('Package: '));
}

function seed(stanzas: string[], n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const round = Math.floor(i / stanzas.length);
    let s = (stanzas[i % stanzas.length] as string).replace(/\n+$/, '');
    if (round > 0)
      s = s
        .replace(/^Package: (.*)$/m, `Package: $1-r${round}`)
        .replace(/^Filename: (.*)\.deb$/m, `Filename: $1-r${round}.deb`);
    out.push(`${s}\n`);
  }
  return out.join('\n');
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;

const run = promisify(execFile);
/** What reading a deb cost before: one `dpkg-deb --field` start, then the sha256. */
async function readWithDpkg(deb: string): Promise<void> {
  await run('dpkg-deb', ['--field', deb]);
  await sha256OfFile(deb);
}

const dir = await mkdtemp(path.join(tmpdir(), 'aoinb-bench-repo-'));
const layout = storageLayout(path.join(dir, 'storage'));
const signer = await RepoSigner.open({ home: layout.signingHome, logger: silentLogger() });
// The same key through gpg (two process starts per Release): what signing cost before it ran in-process.
const gpgSigner = await RepoSigner.open({ home: layout.signingHome, logger: silentLogger(), gpgOnly: true });
// Time spent signing, per publish: what gpg costs, apart from the index work.
const signTimes: number[] = [];
const sign = signer.sign.bind(signer);
signer.sign = async (release) => {
  const t = performance.now();
  const out = await sign(release);
  signTimes.push(performance.now() - t);
  return out;
};
try {
  const stanzas = debianStanzas();
  const debs: string[] = [];
  for (let i = 0; i < publishes; i++)
    debs.push(await makeTestDeb(path.join(dir, 'debs', String(i)), `bench-pkg-${i}`, `1.${i}-0`, 'amd64'));
  const rows: string[][] = [];
  for (const n of sizes) {
    const branch = `b${n}`;
    const repoDir = layout.repoDir(branch);
    await mkdir(repoDir, { recursive: true });
    const text = seed(stanzas, n);
    // Baseline: the whole index rewritten and compressed, as one publish did before.
    const t0 = performance.now();
    const gz = gzipSync(text);
    await writeFile(path.join(repoDir, 'Packages'), text);
    await writeFile(path.join(repoDir, 'Packages.gz'), gz);
    const rewrite = performance.now() - t0;
    // The first start on a repository without a saved index state: rebuilt from Packages (no deb is opened).
    const t1 = performance.now();
    await new AptRepo(layout, silentLogger(), { signer }).ensure(branch);
    const rebuild = performance.now() - t1;
    // A coordinator start: the saved state and the journal, not Packages.
    const repo = new AptRepo(layout, silentLogger(), { signer });
    const t2 = performance.now();
    await repo.ensure(branch);
    const load = performance.now() - t2;
    const times: number[] = [];
    const signing: number[] = [];
    const reading: number[] = [];
    const dpkgReading: number[] = [];
    for (const [i, deb] of debs.entries()) {
      // Alternating which reader goes first, so neither gets the warmer page cache every time.
      for (const dpkgFirst of i % 2 ? [true, false] : [false, true]) {
        const r = performance.now();
        await (dpkgFirst ? readWithDpkg(deb) : readDebFacts(deb, 0, 0));
        (dpkgFirst ? dpkgReading : reading).push(performance.now() - r);
      }
      const t = performance.now();
      await repo.publish(branch, [{ source: deb, name: path.basename(deb) }]);
      times.push(performance.now() - t);
      signing.push(signTimes.pop() ?? 0);
    }
    const index = times.map((t, i) => t - (signing[i] as number) - (reading[i] as number));
    const before = times.map((t, i) => t - (reading[i] as number) + (dpkgReading[i] as number));
    const release = await readFile(path.join(repoDir, 'Release'), 'utf8');
    const viaGpg: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await gpgSigner.sign(release);
      viaGpg.push(performance.now() - t);
    }
    rows.push([
      n.toLocaleString('en'),
      `${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB`,
      ms(quantile(times, 0.5)),
      ms(quantile(times, 0.95)),
      ms(quantile(index, 0.5)),
      ms(quantile(reading, 0.5)),
      ms(quantile(dpkgReading, 0.5)),
      ms(quantile(before, 0.5)),
      ms(quantile(before, 0.95)),
      ms(quantile(signing, 0.5)),
      ms(quantile(viaGpg, 0.5)),
      ms(rewrite),
      `${(rewrite / quantile(times, 0.5)).toFixed(1)}x`,
      `${(load / 1000).toFixed(3)} s`,
      `${(rebuild / 1000).toFixed(2)} s`,
    ]);
    await rm(repoDir, { recursive: true, force: true });
  }
  const header = [
    'packages',
    'Packages',
    'publish p50',
    'p95',
    'index p50',
    'read p50',
    'dpkg-deb (before) p50',
    'publish before p50',
    'p95',
    'signing p50',
    'gpg (before) p50',
    'full rewrite',
    'rewrite/p50',
    'start (saved state)',
    'start (rebuild from Packages)',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(`publish of one real .deb (${publishes} per size, signed Release each time)`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
} finally {
  await signer.close();
  await gpgSigner.close();
  await rm(dir, { recursive: true, force: true });
}
