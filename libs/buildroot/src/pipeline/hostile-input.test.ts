import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

/**
 * Hostile bundles and build scripts against the host side of the real
 * pipeline (OverlayFS, nspawn, the stand-in autobuild): names that would leave
 * their folder, sources the host must not read, and build outputs that try to
 * make the host collect its own files. Each asserts the canary is untouched and
 * the failure names what was refused.
 */
let host: BuildHost;
let canary: string;

beforeAll(async () => {
  host = await createBuildHost();
  canary = path.join(host.dir, 'canary');
  await mkdir(path.join(canary, 'victim'), { recursive: true });
  await writeFile(path.join(canary, 'victim/keep'), 'precious\n');
  await writeFile(path.join(canary, 'maintainer.token'), 'secret-token\n');
});
afterAll(async () => {
  await host?.close();
});

async function expectCanaryIntact(): Promise<void> {
  expect(await readFile(path.join(canary, 'victim/keep'), 'utf8')).toBe('precious\n');
  expect(await readFile(path.join(canary, 'maintainer.token'), 'utf8')).toBe('secret-token\n');
}

async function withSpec(name: string, edit: (spec: string) => string): Promise<string> {
  const bundle = await host.exampleBundle(name);
  const spec = await readFile(path.join(bundle, 'spec'), 'utf8');
  await writeFile(path.join(bundle, 'spec'), edit(spec));
  return bundle;
}

async function outputNames(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.deb'));
}

describe('hostile names and sources through the real pipeline', () => {
  it('refuses rename= and SUBDIR that leave their folder before touching the host', async () => {
    const victim = path.relative('/', path.join(canary, 'victim'));
    const rename = await withSpec(
      'rename',
      () =>
        `VER=1.0\nSRCS="git::commit=HEAD;rename=../../../../../../../../${victim}::https://example.org/x.git"\nCHKSUMS="SKIP"\n`,
    );
    await expect(
      runBuild(host.ctx, { buildId: 'rename-1', bundleDir: rename, branch: 'stable' }),
    ).rejects.toMatchObject({
      code: 'BUNDLE_UNSAFE',
      message: expect.stringMatching(/spec: SRCS \(source 1\) rename= ".*victim": must be a single name/),
    });
    const subdir = await withSpec('subdir', (spec) => `${spec}SUBDIR="../../../../${victim}"\n`);
    await expect(
      runBuild(host.ctx, { buildId: 'subdir-1', bundleDir: subdir, branch: 'stable' }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/SUBDIR/) });
    await expectCanaryIntact();
  });

  it('never copies a file:// source into the build, and does not fetch from a loopback port it was not allowed', async () => {
    const file = await withSpec('file-src', (spec) =>
      spec.replace(/SRCS=.*/, `SRCS="file::file://${canary}/maintainer.token"`).replace(/CHKSUMS=.*/, 'CHKSUMS="SKIP"'),
    );
    const result = await runBuild(host.ctx, { buildId: 'file-1', bundleDir: file, branch: 'stable' });
    expect(result.status).toBe('failed');
    expect(result.reason).toContain('file:// URLs are never fetched');
    expect(result.phases.build).toBeUndefined();
    const other = await withSpec('other-port', (spec) => spec.replace(`127.0.0.1:${host.source.port}`, 'localhost:9'));
    const refused = await runBuild(host.ctx, { buildId: 'port-1', bundleDir: other, branch: 'stable' });
    expect(refused.reason).toMatch(/localhost:9 resolves to .*, a loopback address/);
    await expectCanaryIntact();
  });
});

describe('hostile build outputs', () => {
  const build = async (id: string, script: string) => {
    const bundle = await host.exampleBundle(id);
    await appendFile(path.join(bundle, 'autobuild/build'), `\n${script}\n`);
    const outputDir = path.join(host.dir, `out-${id}`);
    return {
      result: await runBuild(host.ctx, { buildId: id, bundleDir: bundle, branch: 'stable', outputDir }),
      outputDir,
    };
  };

  it('fails a build that links an output .deb to a host file, and collects nothing', async () => {
    const { result, outputDir } = await build(
      'link-deb',
      `mkdir -p /buildroot/output && ln -s ${canary}/maintainer.token /buildroot/output/evil_1.0-0_amd64.deb`,
    );
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('build output "evil_1.0-0_amd64.deb": is a symlink; only regular files are collected');
    expect(result.artifacts).toEqual([]);
    expect(await outputNames(outputDir)).toEqual([]);
    await expectCanaryIntact();
  });

  it('fails a build that replaces /buildroot/output with a link to a host folder', async () => {
    // /tmp exists in the container too, so the toolbox's copy succeeds; on the host the link
    // would name the host's /tmp.
    const { result, outputDir } = await build(
      'link-dir',
      "trap 'rm -rf /buildroot/output; ln -s /tmp /buildroot/output' EXIT",
    );
    expect(result.status).toBe('failed');
    expect(result.reason).toBe(
      '/buildroot/output is not a plain folder (ENOTDIR): a link or something else was put there',
    );
    expect(await outputNames(outputDir)).toEqual([]);
    await expectCanaryIntact();
  });

  it('fails a build that leaves a package of another name, or a file that is not a .deb', async () => {
    const control = [
      'Package: openssh-server',
      'Version: 1.0-0',
      'Architecture: $ARCH',
      'Maintainer: x <x@x>',
      'Description: x',
    ];
    const foreign = await build(
      'foreign',
      [
        `mkdir -p /tmp/f/DEBIAN && printf "${control.join('\\n')}\\n" > /tmp/f/DEBIAN/control`,
        'mkdir -p /buildroot/output && ' +
          'dpkg-deb --build /tmp/f /buildroot/output/openssh-server_1.0-0_$ARCH.deb >/dev/null',
      ].join('\n'),
    );
    expect(foreign.result.status).toBe('failed');
    expect(foreign.result.reason).toMatch(
      /^build output "openssh-server_1\.0-0_\w+\.deb": Package openssh-server is not a package of this bundle \(hello-aoinb\)$/,
    );
    expect(await outputNames(foreign.outputDir)).toEqual([]);
    const notes = await build('notes', 'mkdir -p /buildroot/output && echo hi > /buildroot/output/notes.txt');
    expect(notes.result.reason).toBe('build output "notes.txt": only .deb files may be left in /buildroot/output');
  });
});
