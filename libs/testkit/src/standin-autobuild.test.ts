import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleBundleDir, prepareExampleSource, type ExampleSource } from './example-bundle.ts';
import { mountOverlayFixture } from './overlay-fixture.ts';
import { runInNspawn } from './overlay-fixture.ts';
import { mountsUnder } from './remove-tree.ts';
import { ensureStandinBaseos, type StandinBaseos } from './standin-baseos.ts';
import { writeFailingTestBundle, writeSplitTestBundle, type FailingTestBundle } from './test-bundles.ts';

let baseos: StandinBaseos;
let source: ExampleSource;
let work: string;

beforeAll(async () => {
  baseos = await ensureStandinBaseos();
  source = await prepareExampleSource();
  work = await mkdtemp(path.join(tmpdir(), 'aoinb-standin-test-'));
});

afterAll(async () => {
  await source?.close();
  if (work) {
    const left = await mountsUnder(work);
    await rm(work, { recursive: true, force: true });
    expect(left, 'overlay mounts left behind').toEqual([]);
  }
  const overlays = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.startsWith('overlay ') && l.includes(work));
  expect(overlays).toEqual([]);
});

interface BuildRun {
  exitCode: number | undefined;
  output: string;
  /** Names of the .debs left in /buildroot/build, copied to `outDir`. */
  debs: string[];
  outDir: string;
}

/**
 * As the toolbox does: unpack the source into /buildroot/build of a fresh
 * overlay over the stand-in rootfs, copy the bundle's autobuild/ there, run
 * `autobuild` under systemd-nspawn, collect the .debs, always unmount.
 */
async function buildInContainer(bundleDir: string, env: Record<string, string>, options: { withSource?: boolean } = {}): Promise<BuildRun> {
  const outDir = await mkdtemp(path.join(work, 'out-'));
  const overlay = await mountOverlayFixture({ lower: baseos.rootfsDir, parentDir: work });
  try {
    const build = path.join(overlay.merged, 'buildroot', 'build');
    await mkdir(build, { recursive: true });
    if (options.withSource ?? true) await execa('tar', ['-xzf', source.tarball, '--strip-components=1', '-C', build]);
    await cp(path.join(bundleDir, 'autobuild'), path.join(build, 'autobuild'), { recursive: true });
    const result = await runInNspawn({ root: overlay.merged, chdir: '/buildroot/build', env, command: ['autobuild'] });
    const debs = (await readdir(build)).filter((name) => name.endsWith('.deb')).sort();
    for (const deb of debs) await cp(path.join(build, deb), path.join(outDir, deb));
    return { exitCode: result.exitCode, output: String(result.all ?? ''), debs, outDir };
  } finally {
    await overlay.unmount();
  }
}

async function debField(deb: string, field: string): Promise<string> {
  return (await execa('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

async function debFiles(deb: string): Promise<string[]> {
  const { stdout } = await execa('dpkg-deb', ['-c', deb]);
  return stdout.split('\n').map((line) => line.split(/\s+/).slice(5).join(' ')).filter(Boolean);
}

async function runPackaged(deb: string, binary: string, args: string[] = []): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'x-'));
  await execa('dpkg-deb', ['-x', deb, dir]);
  return (await execa(path.join(dir, binary), args)).stdout;
}

const env = (arch: string, extra: Record<string, string> = {}): Record<string, string> => ({ PKGVER: '1.0', PKGREL: '0', ARCH: arch, ...extra });

describe('stand-in autobuild under systemd-nspawn over OverlayFS', () => {
  it('builds the example bundle into a .deb with the contract name, fields and files', async () => {
    const run = await buildInContainer(exampleBundleDir, env(baseos.arch));
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).toMatch(/^\[INFO\]: +Building hello-aoinb \.\.\.$/m);
    expect(run.debs).toEqual([`hello-aoinb_1.0-0_${baseos.arch}.deb`]);
    const deb = path.join(run.outDir, run.debs[0] ?? '');
    expect(await debField(deb, 'Package')).toBe('hello-aoinb');
    expect(await debField(deb, 'Version')).toBe('1.0-0');
    expect(await debField(deb, 'Architecture')).toBe(baseos.arch);
    expect(await debField(deb, 'Section')).toBe('utils');
    expect(await debField(deb, 'Description')).toBe("Example greeting program built by aoinb's tests");
    expect(await debFiles(deb)).toEqual(expect.arrayContaining(['./usr/bin/hello-aoinb', './usr/share/man/man1/hello-aoinb.1']));
    const { stdout: owners } = await execa('dpkg-deb', ['-c', deb]);
    expect(owners).not.toMatch(/^\S+ (?!root\/root)/m);
    expect(await runPackaged(deb, 'usr/bin/hello-aoinb')).toBe('Hello, aoinb! (built by aoinb)');
    expect(await runPackaged(deb, 'usr/bin/hello-aoinb', ['--version'])).toBe('hello-aoinb 1.0');
  });

  it('builds split packages in NN order in one build dir, with epoch, noarch, patches and package files', async () => {
    const bundle = await writeSplitTestBundle(path.join(work, 'split'), { sha256: source.sha256, arch: baseos.arch });
    const run = await buildInContainer(bundle, env(baseos.arch, { PKGREL: '3', PKGEPOCH: '2' }));
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output.indexOf('Built hello-split_')).toBeLessThan(run.output.indexOf('Built hello-split-doc_'));
    expect(run.debs).toEqual([`hello-split-doc_1.0-3_noarch.deb`, `hello-split_1.0-3_${baseos.arch}.deb`]);
    const [doc, bin] = run.debs.map((d) => path.join(run.outDir, d)) as [string, string];

    expect(await debField(bin, 'Version')).toBe('2:1.0-3');
    expect(await debField(bin, 'Depends')).toBe('libc6 (>= 2.30)');
    expect(await debField(bin, 'Recommends')).toBe('hello-split-doc');
    expect(await debField(bin, 'Conflicts')).toBe('hello-old (<< 1.0)');
    expect(await debField(bin, 'Provides')).toBe('hello-greeter');
    expect(await debFiles(bin)).toEqual(expect.arrayContaining(['./usr/local/bin/hello-aoinb', './etc/hello-split.conf', './usr/share/hello-split/prepared.txt']));
    expect((await execa('dpkg-deb', ['-I', bin, 'conffiles'])).stdout.trim()).toBe('/etc/hello-split.conf');
    expect((await execa('dpkg-deb', ['-I', bin, 'postinst'])).stdout).toMatch(/^#!\/bin\/bash\necho "hello-split configured"/);
    expect(await runPackaged(bin, 'usr/local/bin/hello-aoinb')).toBe('Howdy, aoinb! (built by aoinb)');

    expect(await debField(doc, 'Architecture')).toBe('all');
    expect(await debField(doc, 'Version')).toBe('2:1.0-3');
    expect(await debField(doc, 'Depends')).toBe('hello-split (= 1.0-3)');
    expect(await debFiles(doc)).toContain('./usr/share/man/man1/hello-split.1');
  });

  const failures: [FailingTestBundle, RegExp, boolean][] = [
    ['build-fails', /failed with exit status/, true],
    ['no-build-method', /cannot tell how to build: no autobuild\/build, no ABTYPE=self and no Makefile/, false],
    ['arch-excluded', /FAIL_ARCH="\*" excludes/, true],
    ['no-pkgdes', /autobuild\/defines: PKGDES is required/, true],
  ];
  it.each(failures)('fails clearly and builds nothing when %s', async (kind, message, withSource) => {
    const bundle = await writeFailingTestBundle(path.join(work, kind), kind);
    const run = await buildInContainer(bundle, env(baseos.arch), { withSource });
    expect(run.exitCode, run.output).not.toBe(0);
    expect(run.output).toMatch(message);
    expect(run.output).not.toContain('must not get here');
    expect(run.debs).toEqual([]);
  });
});
