import { mkdtemp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyBundleWithPort,
  writeFailingTestBundle,
  writeSplitTestBundle,
  type FailingTestBundle,
} from '@aoinb/testkit';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

// The testkit's split and failing bundles through the whole pipeline with AOSC's real autobuild4.

let host: BuildHost;
beforeAll(async () => {
  host = await createBuildHost();
});
afterAll(async () => {
  await host?.close();
});

async function debField(deb: string, field: string): Promise<string> {
  return (await execa('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

async function debFiles(deb: string): Promise<string[]> {
  const { stdout } = await execa('dpkg-deb', ['-c', deb]);
  return stdout
    .split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '))
    .filter(Boolean);
}

describe('the testkit bundles built by the real autobuild4', () => {
  it('builds the NN-name/ split bundle in NN order in one folder, with epoch, noarch, patches and files', async () => {
    const arch = host.baseos.arch;
    const written = await writeSplitTestBundle(path.join(host.dir, 'split-src'), { sha256: host.source.sha256, arch });
    const bundle = await copyBundleWithPort({
      bundleDir: written,
      destDir: path.join(host.dir, 'split'),
      port: host.source.port,
    });
    const result = await runBuild(host.ctx, { buildId: 'split-1', bundleDir: bundle, branch: 'stable' });
    const log = await readFile(result.logFile, 'utf8');
    expect(result.reason, log).toBeUndefined();
    expect(log.indexOf('building split package 01-hello-split')).toBeLessThan(
      log.indexOf('building split package 02-hello-split-doc'),
    );
    expect(result.artifacts.map((a) => a.name)).toEqual([
      `hello-split-dbg_1.0-3_${arch}.deb`,
      `hello-split-doc_1.0-3_noarch.deb`,
      `hello-split_1.0-3_${arch}.deb`,
    ]);
    const [, doc, bin] = result.artifacts.map((a) => a.file) as [string, string, string];

    expect(await debField(bin, 'Version')).toBe('2:1.0-3');
    expect(await debField(bin, 'Depends')).toMatch(/libc6 \(>= 2\.30\)/);
    expect(await debField(bin, 'Recommends')).toBe('hello-split-doc');
    expect(await debField(bin, 'Conflicts')).toBe('hello-old (<= 0.9)');
    expect(await debField(bin, 'Provides')).toMatch(/hello-greeter/);
    expect(await debFiles(bin)).toEqual(
      expect.arrayContaining([
        './usr/bin/hello-aoinb',
        './etc/hello-split.conf',
        './usr/share/hello-split/prepared.txt',
      ]),
    );
    expect((await execa('dpkg-deb', ['-I', bin, 'conffiles'])).stdout).toContain('/etc/hello-split.conf');
    expect((await execa('dpkg-deb', ['-I', bin, 'postinst'])).stdout).toContain('echo "hello-split configured"');
    const unpacked = await mkdtemp(path.join(host.dir, 'unpacked-')); // host.dir goes with the host
    await execa('dpkg-deb', ['-x', bin, unpacked]);
    expect((await execa(path.join(unpacked, 'usr/bin/hello-aoinb'))).stdout).toBe('Howdy, aoinb! (built by aoinb)');

    expect(await debField(doc, 'Architecture')).toBe('all');
    expect(await debField(doc, 'Version')).toBe('2:1.0-3');
    expect(await debField(doc, 'Depends')).toMatch(/hello-split \(= 2:1\.0-3\)/);
    expect((await debFiles(doc)).some((f) => f.startsWith('./usr/share/man/man1/hello-split.1'))).toBe(true);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  const failures: [FailingTestBundle, RegExp][] = [
    ['build-fails', /about to fail[\s\S]*autobuild encountered an error and couldn't continue/],
    ['no-build-method', /Cannot determine build type\./],
  ];
  it.each(failures)('fails %s in autobuild4 and publishes nothing', async (kind, message) => {
    const bundle = await writeFailingTestBundle(path.join(host.dir, 'fail', kind), kind);
    const result = await runBuild(host.ctx, {
      buildId: `fail-${kind}`,
      bundleDir: bundle,
      branch: 'stable',
      outputDir: path.join(host.dir, 'out', kind),
    });
    const log = await readFile(result.logFile, 'utf8');
    expect(result.status, log).toBe('failed');
    expect(log).toMatch(message);
    expect(log).not.toMatch(/^must not get here\s*$/m);
    expect(result.artifacts).toEqual([]);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  const refused: [FailingTestBundle, RegExp][] = [
    ['arch-excluded', /FAIL_ARCH\/ALLOW_ARCH do not allow building noarch-here on /],
    ['no-pkgdes', /autobuild\/defines: PKGDES is required/],
  ];
  it.each(refused)('refuses %s on the host before any container starts', async (kind, message) => {
    const bundle = await writeFailingTestBundle(path.join(host.dir, 'refused', kind), kind);
    await expect(
      runBuild(host.ctx, { buildId: `refused-${kind}`, bundleDir: bundle, branch: 'stable' }),
    ).rejects.toThrow(message);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });
});
