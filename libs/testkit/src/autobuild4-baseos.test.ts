import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleBundleDir, prepareExampleSource, type ExampleSource } from './example-bundle.ts';
import { mountOverlayFixture, runInNspawn } from './overlay-fixture.ts';
import { mountsUnder } from './remove-tree.ts';
import { ensureTestBaseos, type TestBaseos } from './test-baseos.ts';
import { writeFailingTestBundle, type FailingTestBundle } from './test-bundles.ts';

// The test base OS with AOSC's real autobuild4, driven as aoinb's toolbox drives it
// (autobuild in the build folder, MTER from the instance's ab4cfg.sh).

let baseos: TestBaseos;
let source: ExampleSource;
let work: string;
const maintainer = 'Test Maintainer <maint@example.org>';

beforeAll(async () => {
  baseos = await ensureTestBaseos();
  source = await prepareExampleSource();
  work = await mkdtemp(path.join(tmpdir(), 'aoinb-ab4-test-'));
});

afterAll(async () => {
  await source?.close();
  if (work) {
    const left = await mountsUnder(work);
    await rm(work, { recursive: true, force: true });
    expect(left, 'overlay mounts left behind').toEqual([]);
  }
});

interface BuildRun {
  exitCode: number | undefined;
  output: string;
  /** .debs left in the build folder, copied to `outDir`. */
  debs: string[];
  /** .debs autobuild4 copied under /debs (relative paths). */
  archived: string[];
  outDir: string;
}

async function writeAb4Config(root: string): Promise<void> {
  await mkdir(path.join(root, 'etc/autobuild'), { recursive: true });
  await writeFile(
    path.join(root, 'etc/autobuild/ab4cfg.sh'),
    `#!/bin/bash\nABMPM=dpkg\nABAPMS=\nABINSTALL=dpkg\nMTER="${maintainer}"\n`,
  );
}

/**
 * Unpacks the example source into /buildroot/build of a fresh overlay, copies autobuild/ there,
 * runs autobuild4, always unmounts.
 */
async function buildInContainer(
  bundleDir: string,
  options: { withSource?: boolean; mter?: boolean } = {},
): Promise<BuildRun> {
  const outDir = await mkdtemp(path.join(work, 'out-'));
  const overlay = await mountOverlayFixture({ lower: baseos.rootfsDir, parentDir: work });
  try {
    const build = path.join(overlay.merged, 'buildroot', 'build');
    await mkdir(build, { recursive: true });
    if (options.withSource ?? true) await execa('tar', ['-xzf', source.tarball, '--strip-components=1', '-C', build]);
    await cp(path.join(bundleDir, 'autobuild'), path.join(build, 'autobuild'), { recursive: true });
    if (options.mter ?? true) await writeAb4Config(overlay.merged);
    // The base OS carries no apt lists (the farm's instance layer refreshes them); autobuild4's
    // dependency step needs them.
    const command = ['/bin/bash', '-c', 'apt-get update -q >/dev/null && cd /buildroot/build && autobuild'];
    const result = await runInNspawn({ root: overlay.merged, env: { PKGVER: '1.0', PKGREL: '0' }, command });
    const debs = (await readdir(build)).filter((name) => name.endsWith('.deb')).sort();
    for (const deb of debs) await cp(path.join(build, deb), path.join(outDir, deb));
    const archived = (await readdir(path.join(overlay.merged, 'debs'), { recursive: true }).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.deb'))
      .sort();
    return { exitCode: result.exitCode, output: result.all, debs, archived, outDir };
  } finally {
    await overlay.unmount();
  }
}

async function debField(deb: string, field: string): Promise<string> {
  return (await execa('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

/** Installs the .deb with dpkg in a fresh container of the base OS and runs the installed program there. */
async function installAndRun(
  deb: string,
  command: string[],
): Promise<{ exitCode: number | undefined; output: string }> {
  const overlay = await mountOverlayFixture({ lower: baseos.rootfsDir, parentDir: work });
  try {
    await cp(deb, path.join(overlay.merged, 'root', path.basename(deb)));
    const script = `dpkg -i /root/${path.basename(deb)} >/dev/null && exec "$@"`;
    const run = await runInNspawn({ root: overlay.merged, command: ['/bin/sh', '-c', script, 'run', ...command] });
    // nspawn's own notes (e.g. "Attempted to remove disk file system ...") follow the program's output.
    return { exitCode: run.exitCode, output: (run.all.split('\n')[0] ?? '').trim() };
  } finally {
    await overlay.unmount();
  }
}

describe('the test base OS', () => {
  it('is Debian trixie with the real autobuild4 as /usr/bin/autobuild, without its build dependencies', async () => {
    expect(baseos.autobuild).toBe('autobuild4');
    expect(baseos.suite).toBe('trixie');
    expect(await readFile(path.join(baseos.rootfsDir, 'etc/debian_version'), 'utf8')).toMatch(/^(13\.|trixie)/);
    expect(await readFile(path.join(baseos.rootfsDir, 'usr/bin/autobuild'), 'utf8')).toMatch(
      /enable -f .*libautobuild\.so" autobuild/,
    );
    // Read dpkg's database from outside: the cached rootfs is only ever used read-only.
    const status = await readFile(path.join(baseos.rootfsDir, 'var/lib/dpkg/status'), 'utf8');
    const installed = status
      .split('\n\n')
      .filter((p) => /^Status: install ok installed$/m.test(p))
      .map((p) => /^Package: (\S+)$/m.exec(p)?.[1]);
    expect(installed).toEqual(expect.arrayContaining(['build-essential', 'dpkg-dev', 'libelf1t64']));
    for (const buildDep of [
      'cmake',
      'ninja-build',
      'nlohmann-json3-dev',
      'libfmt-dev',
      'libelf-dev',
      'bash-builtins',
    ]) {
      expect(installed, `${buildDep} should be gone`).not.toContain(buildDep);
    }
  });
});

describe('real autobuild4 under systemd-nspawn over OverlayFS', () => {
  it('builds the example and its -dbg, MTER as Maintainer, that install and run in a fresh container', async () => {
    const run = await buildInContainer(exampleBundleDir);
    expect(run.exitCode, run.output).toBe(0);
    const arch = baseos.arch;
    expect(run.debs).toEqual([`hello-aoinb-dbg_1.0-0_${arch}.deb`, `hello-aoinb_1.0-0_${arch}.deb`]);
    expect(run.archived).toEqual([`h/hello-aoinb-dbg_1.0-0_${arch}.deb`, `h/hello-aoinb_1.0-0_${arch}.deb`]);
    const deb = path.join(run.outDir, `hello-aoinb_1.0-0_${arch}.deb`);
    expect(await debField(deb, 'Package')).toBe('hello-aoinb');
    expect(await debField(deb, 'Architecture')).toBe(arch);
    expect(await debField(deb, 'Section')).toBe('utils');
    expect(await debField(deb, 'Maintainer')).toBe(maintainer);
    expect(await debField(deb, 'X-AOSC-Autobuild4-Version')).toBe('4.17.10');
    const installed = await installAndRun(deb, ['hello-aoinb']);
    expect(installed).toEqual({ exitCode: 0, output: 'Hello, aoinb! (built by aoinb)' });
    const version = await installAndRun(deb, ['hello-aoinb', '--version']);
    expect(version.output).toBe('hello-aoinb 1.0');
  });

  it("stops in pre-build QA when no maintainer is configured (MTER left at autobuild4's default)", async () => {
    const run = await buildInContainer(exampleBundleDir, { mter: false });
    expect(run.exitCode, run.output).not.toBe(0);
    expect(run.output).toMatch(/QA \(E311\): Maintainer information not set/);
    expect(run.debs).toEqual([]);
  });

  const failures: [FailingTestBundle, RegExp, boolean][] = [
    ['build-fails', /about to fail/, true],
    ['arch-excluded', /FAIL_ARCH|not supported|architecture/i, true],
  ];
  it.each(failures)('fails and builds nothing when %s', async (kind, message, withSource) => {
    const bundle = await writeFailingTestBundle(path.join(work, kind), kind);
    const run = await buildInContainer(bundle, { withSource });
    expect(run.exitCode, run.output).not.toBe(0);
    expect(run.output).toMatch(message);
    expect(run.output).not.toMatch(/^must not get here\s*$/m);
    expect(run.debs).toEqual([]);
  });
});
