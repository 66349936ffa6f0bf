import { access, appendFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

let host: BuildHost;
const testMaintainer = 'aoinb Tests <tests@aoinb.invalid>';

beforeAll(async () => {
  host = await createBuildHost({
    extraToml: [
      '[build]',
      'instance_refresh_minutes = 600',
      'sample_interval_seconds = 0.5',
      `maintainer = "${testMaintainer}"`,
    ].join('\n'),
  });
});
afterAll(async () => {
  await host?.close();
});

async function expectNothingLeft(): Promise<void> {
  expect(await mountsUnder(host.workDir)).toEqual([]);
  expect(await readdir(path.join(host.workDir, 'workspaces'))).toEqual([]);
  expect((await execa('pgrep', ['-f', `--directory=${host.workDir}`], { reject: false })).stdout).toBe('');
}

describe('runBuild through OverlayFS and systemd-nspawn', () => {
  it('builds the example C program from a checksum-verified tarball into a working .deb', async () => {
    const lines: string[] = [];
    const bundle = await host.exampleBundle();
    const result = await runBuild(host.ctx, {
      buildId: 'hello-1',
      bundleDir: bundle,
      branch: 'stable',
      onLogLine: (line) => lines.push(line),
    });
    expect(result.reason).toBeUndefined();
    expect(result.status).toBe('succeeded');
    // autobuild4 leaves each package in the build folder and in /debs/h/: collected once each, -dbg kept.
    const arch = host.baseos.arch;
    expect(result.artifacts.map((a) => a.name)).toEqual([
      `hello-aoinb-dbg_1.0-0_${arch}.deb`,
      `hello-aoinb_1.0-0_${arch}.deb`,
    ]);
    const deb = result.artifacts.find((a) => a.name.startsWith('hello-aoinb_'))!;
    expect(deb.file).toBe(path.join(host.workDir, 'output/stable', deb.name));
    expect(deb.sha256).toMatch(/^[0-9a-f]{64}$/);

    const field = async (name: string) => (await execa('dpkg-deb', ['-f', deb.file, name])).stdout;
    expect(await field('Package')).toBe('hello-aoinb');
    // autobuild4 leaves a zero REL out of the version (the file name keeps it).
    expect(await field('Version')).toBe('1.0');
    expect(await field('Architecture')).toBe(host.baseos.arch);
    // [build] maintainer, written as MTER into the instance's /etc/autobuild/ab4cfg.sh.
    expect(await field('Maintainer')).toBe(testMaintainer);
    expect(lines).toContain(`[aoinb] instance autobuild4 config written (MTER="${testMaintainer}")`);
    const files = (await execa('dpkg-deb', ['-c', deb.file])).stdout;
    expect(files).toMatch(/\.\/usr\/bin\/hello-aoinb\n/);
    const unpacked = await mkdtemp(path.join(host.dir, 'unpacked-')); // host.dir goes with the host
    await execa('dpkg-deb', ['-x', deb.file, unpacked]);
    expect((await execa(path.join(unpacked, 'usr/bin/hello-aoinb'))).stdout).toMatch(/hello/i);

    // Live lines, the saved log, the build record and the resource figures.
    expect(lines.some((l) => l.includes('Building hello-aoinb'))).toBe(true);
    expect(lines).toContain('[aoinb] refreshing instance stable (apt update; full-upgrade if the lists changed)');
    expect(await readFile(result.logFile, 'utf8')).toContain('Building hello-aoinb');
    const record = JSON.parse(await readFile(result.recordFile, 'utf8'));
    expect(record).toMatchObject({
      status: 'succeeded',
      package: { name: 'hello-aoinb', version: '1.0-0' },
      branch: 'stable',
    });
    expect(Object.keys(record.phases)).toEqual(
      expect.arrayContaining(['instance_refresh', 'mount', 'source_fetch', 'build', 'collect', 'discard']),
    );
    expect(result.resources.cpuSeconds).toBeGreaterThan(0);
    expect(result.resources.peakMemoryBytes).toBeGreaterThan(0);
    expect(result.resources.peakDiskBytes).toBeGreaterThan(0);
    // The one source tarball, downloaded into the host cache (worker metrics count hits and misses from this).
    expect(result.sources).toEqual([{ name: expect.any(String), cached: false }]);
    await expectNothingLeft();
  });

  it('reports a failing build as a failed result and leaves nothing behind', async () => {
    const bundle = await host.exampleBundle('failing');
    await appendFile(path.join(bundle, 'autobuild/build'), '\naberr "deliberate failure"\nexit 3\n');
    const result = await runBuild(host.ctx, { buildId: 'fail-1', bundleDir: bundle, branch: 'stable' });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/exited with status/);
    expect(result.artifacts).toEqual([]);
    const log = await readFile(result.logFile, 'utf8');
    expect(log).toContain('deliberate failure');
    // Same tarball as the first build: served from the host's source cache.
    expect(result.sources).toEqual([{ name: expect.any(String), cached: true }]);
    // instance_refresh_minutes = 600: the first build's refresh still counts.
    expect(log).not.toContain('refreshing instance');
    await expectNothingLeft();
  });

  it('publishes no -dbg package with keep_dbg = false', async () => {
    const ctx = { ...host.ctx, config: { ...host.ctx.config, build: { ...host.ctx.config.build, keepDbg: false } } };
    const result = await runBuild(ctx, {
      buildId: 'nodbg-1',
      bundleDir: await host.exampleBundle('nodbg'),
      branch: 'stable',
      outputDir: path.join(host.dir, 'out-nodbg'),
    });
    expect(result.reason).toBeUndefined();
    expect(result.artifacts.map((a) => a.name)).toEqual([`hello-aoinb_1.0-0_${host.baseos.arch}.deb`]);
    expect(await readdir(path.join(host.dir, 'out-nodbg'))).not.toContain(
      `hello-aoinb-dbg_1.0-0_${host.baseos.arch}.deb`,
    );
    await expectNothingLeft();
  });

  it('fails the build naming both files when two different packages share one name', async () => {
    const bundle = await host.exampleBundle('clash');
    const name = `hello-aoinb_1.0-0_${host.baseos.arch}.deb`;
    await appendFile(
      path.join(bundle, 'autobuild/build'),
      `\nmkdir -p /debs/z && echo not-a-package > /debs/z/${name}\n`,
    );
    const result = await runBuild(host.ctx, {
      buildId: 'clash-1',
      bundleDir: bundle,
      branch: 'stable',
      outputDir: path.join(host.dir, 'out-clash'),
    });
    expect(result.status).toBe('failed');
    expect(result.artifacts).toEqual([]);
    const log = await readFile(result.logFile, 'utf8');
    expect(log).toMatch(new RegExp(`two different packages named ${name.replaceAll('.', '\\.')}: \\S+ and \\S+`));
    expect(log).toContain(`/debs/z/${name}`);
    await expectNothingLeft();
  });

  it('fails a bad checksum on the host before any container starts', async () => {
    const bundle = await host.exampleBundle('badsum');
    const spec = await readFile(path.join(bundle, 'spec'), 'utf8');
    await writeFile(path.join(bundle, 'spec'), spec.replace(/sha256::[0-9a-f]{64}/, `sha256::${'0'.repeat(64)}`));
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'badsum-1',
      bundleDir: bundle,
      branch: 'stable',
      onLogLine: (l) => lines.push(l),
    });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/sha256 is [0-9a-f]{64}, spec CHKSUMS says 0{64}/);
    expect(result.failureClass).toBe('build');
    expect(result.phases.build).toBeUndefined();
    expect(lines.some((l) => l.includes('running autobuild'))).toBe(false);
    await expectNothingLeft();
  });

  it('builds the ABBS split layout (NN-name/ beside spec) one package after another', async () => {
    const bundle = path.join(host.dir, 'bundles', 'split-abbs');
    // Data-only parts: autobuild4 fails a package with no ELF symbols unless ABSPLITDBG is off or it is noarch.
    const part = async (dir: string, name: string, file: string, extra: string) => {
      await mkdir(path.join(bundle, dir), { recursive: true });
      await writeFile(
        path.join(bundle, dir, 'defines'),
        `PKGNAME=${name}\nPKGSEC=libs\nPKGDES="Split part ${name}"\nABTYPE=self\n${extra}\n`,
      );
      await writeFile(
        path.join(bundle, dir, 'build'),
        `mkdir -p "$PKGDIR"/usr/share/${name}\necho ${name} > "$PKGDIR"/usr/share/${name}/${file}\n`,
      );
    };
    await mkdir(bundle, { recursive: true });
    await writeFile(path.join(bundle, 'spec'), 'VER=2.0\nDUMMYSRC=1\n');
    await part('01-splitlib', 'splitlib', 'lib.txt', 'ABSPLITDBG=0');
    await part('02-splitlib-dev', 'splitlib-dev', 'dev.txt', 'ABHOST=noarch');
    const result = await runBuild(host.ctx, { buildId: 'split-abbs', bundleDir: bundle, branch: 'stable' });
    expect(result.reason, await readFile(result.logFile, 'utf8')).toBeUndefined();
    expect(result.artifacts.map((a) => a.name)).toEqual([
      `splitlib-dev_2.0-0_noarch.deb`,
      `splitlib_2.0-0_${host.baseos.arch}.deb`,
    ]);
    const log = await readFile(result.logFile, 'utf8');
    expect(log.indexOf('building split package 01-splitlib')).toBeLessThan(
      log.indexOf('building split package 02-splitlib-dev'),
    );
    await expectNothingLeft();
  });

  it('runs two builds of one branch at once', async () => {
    const [a, b] = await Promise.all([host.exampleBundle('twin-a'), host.exampleBundle('twin-b')]);
    const results = await Promise.all([
      runBuild(host.ctx, {
        buildId: 'twin-a',
        bundleDir: a,
        branch: 'stable',
        outputDir: path.join(host.dir, 'out-a'),
      }),
      runBuild(host.ctx, {
        buildId: 'twin-b',
        bundleDir: b,
        branch: 'stable',
        outputDir: path.join(host.dir, 'out-b'),
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    await access(path.join(host.dir, 'out-a', results[0].artifacts[0]!.name));
    await expectNothingLeft();
  });

  it('kills the container and releases everything when cancelled', async () => {
    const bundle = await host.exampleBundle('slow');
    await writeFile(path.join(bundle, 'autobuild/build'), 'abinfo "sleeping"\nsleep 300\n');
    const controller = new AbortController();
    const started = Date.now();
    const pending = runBuild(host.ctx, {
      buildId: 'cancel-1',
      bundleDir: bundle,
      branch: 'stable',
      signal: controller.signal,
      onLogLine: (line) => line.includes('sleeping') && controller.abort(),
    });
    const result = await pending;
    expect(result.status).toBe('cancelled');
    // The slow outcome is the build's `sleep 300`: well before it, whatever the machine's load.
    expect(Date.now() - started).toBeLessThan(240_000);
    await expectNothingLeft();
  });

  it('fails a build that runs past its timeout', async () => {
    const bundle = await host.exampleBundle('timeout');
    await writeFile(path.join(bundle, 'autobuild/build'), 'sleep 300\n');
    const result = await runBuild(host.ctx, {
      buildId: 'timeout-1',
      bundleDir: bundle,
      branch: 'stable',
      timeoutMs: 3000,
    });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/timed out after 3 s/);
    await expectNothingLeft();
  });
});
