import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { collectDebs, controlFields, type ArtifactRules } from './collect-debs.ts';

const work = useTempDir('aoinb-collect-');
let merged: string;
let output: string;
let out: string;
const rules: ArtifactRules = {
  arch: 'amd64',
  upstreamVersion: '1.0',
  release: '0',
  packages: [
    { name: 'hello', epoch: '', noarch: false },
    { name: 'hello-data', epoch: '', noarch: true },
  ],
};

/** A real .deb made by dpkg-deb, named `file` in `dir`, its control compressed with `compression` (`-Z`). */
async function deb(
  dir: string,
  file: string,
  control: { Package: string; Version: string; Architecture: string },
  compression = 'gzip',
): Promise<string> {
  const root = await mkdtemp(path.join(work.dir, 'pkg-'));
  await mkdir(path.join(root, 'DEBIAN'));
  await mkdir(path.join(root, 'usr/share/doc'), { recursive: true });
  await writeFile(path.join(root, 'usr/share/doc/x'), 'x\n');
  const text = Object.entries({ ...control, Maintainer: 'T <t@t>', Description: 'test' })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  await writeFile(path.join(root, 'DEBIAN/control'), `${text}\n`);
  await execa('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, path.join(dir, file)]);
  await rm(root, { recursive: true });
  return path.join(dir, file);
}

async function collect(): Promise<{ names?: string[]; error?: { code: string; message: string } }> {
  return collectDebs(merged, out, rules).then(
    (a) => ({ names: a.map((x) => x.name) }),
    (e: { code: string; message: string }) => ({ error: { code: e.code, message: e.message } }),
  );
}

beforeAll(async () => {
  await mkdir(path.join(work.dir, 'canary'));
  await writeFile(path.join(work.dir, 'canary/secret'), 'host secret\n');
});
beforeEach(async () => {
  merged = await mkdtemp(path.join(work.dir, 'merged-'));
  output = path.join(merged, 'buildroot/output');
  await mkdir(output, { recursive: true });
  out = path.join(merged, '..', `${path.basename(merged)}-out`);
});

describe('collectDebs', () => {
  it("collects the bundle's packages, -dbg and noarch ones, as autobuild4 and the stand-in name them", async () => {
    await deb(output, 'hello_1.0-0_amd64.deb', { Package: 'hello', Version: '1.0-0', Architecture: 'amd64' });
    await deb(output, 'hello-dbg_1.0-0_amd64.deb', { Package: 'hello-dbg', Version: '1.0', Architecture: 'amd64' });
    await deb(output, 'hello-data_1.0-0_noarch.deb', { Package: 'hello-data', Version: '1.0', Architecture: 'all' });
    const artifacts = await collectDebs(merged, out, rules);
    expect(artifacts.map((a) => a.name)).toEqual([
      'hello-data_1.0-0_noarch.deb',
      'hello-dbg_1.0-0_amd64.deb',
      'hello_1.0-0_amd64.deb',
    ]);
    expect(await readdir(out)).toEqual(artifacts.map((a) => a.name));
    const { stdout } = await execa('sha256sum', [path.join(out, 'hello_1.0-0_amd64.deb')]);
    expect(artifacts[2]?.sha256).toBe(stdout.split(' ')[0]);
  });

  it('refuses a symlinked .deb and collects nothing, leaving the host file alone', async () => {
    await deb(output, 'hello_1.0-0_amd64.deb', { Package: 'hello', Version: '1.0-0', Architecture: 'amd64' });
    await symlink(path.join(work.dir, 'canary/secret'), path.join(output, 'hello-dbg_1.0-0_amd64.deb'));
    expect(await collect()).toEqual({
      error: {
        code: 'ARTIFACT_INVALID',
        message: 'build output "hello-dbg_1.0-0_amd64.deb": is a symlink; only regular files are collected',
      },
    });
    expect(await readdir(out).catch(() => [])).toEqual([]);
    expect(await readFile(path.join(work.dir, 'canary/secret'), 'utf8')).toBe('host secret\n');
  });

  it('refuses an output folder, or /buildroot, that is a link to elsewhere', async () => {
    const elsewhere = path.join(work.dir, 'elsewhere');
    await mkdir(elsewhere, { recursive: true });
    await deb(elsewhere, 'hello_1.0-0_amd64.deb', { Package: 'hello', Version: '1.0-0', Architecture: 'amd64' });
    await rm(output, { recursive: true });
    await symlink(elsewhere, output);
    const openBefore = (await readdir('/proc/self/fd')).length;
    expect((await collect()).error).toEqual({
      code: 'ARTIFACT_INVALID',
      message: expect.stringContaining('/buildroot/output is not a plain folder (ENOTDIR)'),
    });
    await rm(path.join(merged, 'buildroot'), { recursive: true });
    await symlink(work.dir, path.join(merged, 'buildroot'));
    expect((await collect()).error?.message).toContain('/buildroot is not a plain folder');
    expect(await readdir(out).catch(() => [])).toEqual([]);
    // Each refused step closed the folder it was opened from (they were once left to the GC).
    expect((await readdir('/proc/self/fd')).length).toBe(openBefore);
  });

  it('refuses what is not a .deb: other files, a fake .deb, a FIFO, nothing at all', async () => {
    expect((await collect()).error?.message).toBe('the build produced no .deb in /buildroot/output');
    await writeFile(path.join(output, 'notes.txt'), 'hi');
    expect((await collect()).error?.message).toBe(
      'build output "notes.txt": only .deb files may be left in /buildroot/output',
    );
    await rm(path.join(output, 'notes.txt'));
    await copyFile(path.join(work.dir, 'canary/secret'), path.join(output, 'hello_1.0-0_amd64.deb'));
    const fake = (await collect()).error?.message;
    expect(fake).toBe('build output "hello_1.0-0_amd64.deb": not a valid .deb (no ar archive signature)');
    await rm(path.join(output, 'hello_1.0-0_amd64.deb'));
    await execa('mkfifo', [path.join(output, 'hello_1.0-0_amd64.deb')]);
    expect((await collect()).error?.message).toBe('build output "hello_1.0-0_amd64.deb": is not a regular file');
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('refuses a .deb whose control does not match its name or the bundle', async () => {
    const cases: Array<[string, { Package: string; Version: string; Architecture: string }, string]> = [
      [
        'hello_1.0-0_amd64.deb',
        { Package: 'openssh-server', Version: '1.0-0', Architecture: 'amd64' },
        'Package openssh-server is not a package of this bundle (hello, hello-data)',
      ],
      [
        'hello_1.0-0_amd64.deb',
        { Package: 'hello', Version: '9.9-0', Architecture: 'amd64' },
        "Version 9.9-0 is not the bundle's (1.0-0 or 1.0)",
      ],
      [
        'hello_1.0-0_amd64.deb',
        { Package: 'hello', Version: '1.0-0', Architecture: 'arm64' },
        'Architecture arm64 is not amd64',
      ],
      [
        'hello-data_1.0-0_amd64.deb',
        { Package: 'hello-data', Version: '1.0-0', Architecture: 'amd64' },
        'Architecture amd64 is not all',
      ],
      [
        'other_1.0-0_amd64.deb',
        { Package: 'hello', Version: '1.0-0', Architecture: 'amd64' },
        'its control says hello 1.0-0 amd64, so it should be named hello_1.0-0_amd64.deb',
      ],
    ];
    for (const [file, control, why] of cases) {
      await rm(output, { recursive: true, force: true });
      await mkdir(output);
      await deb(output, file, control);
      expect((await collect()).error, why).toEqual({
        code: 'ARTIFACT_INVALID',
        message: `build output ${JSON.stringify(file)}: ${why}`,
      });
    }
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('refuses a truncated .deb, naming the file and no host path, and closes what it opened', async () => {
    const whole = await deb(work.dir, 'whole.deb', { Package: 'hello', Version: '1.0-0', Architecture: 'amd64' });
    const bytes = await readFile(whole);
    const openBefore = (await readdir('/proc/self/fd')).length;
    await writeFile(path.join(output, 'hello_1.0-0_amd64.deb'), bytes.subarray(0, 8 + 60 + 4 + 60 + 40));
    const { error } = await collect();
    expect(error?.message).toMatch(
      /^build output "hello_1\.0-0_amd64\.deb": not a valid \.deb \(truncated: ar member "control\.tar\.gz" declares \d+ bytes, \d+ remain\)$/,
    );
    expect(error?.message).not.toContain(work.dir);
    expect(await readdir(out).catch(() => [])).toEqual([]);
    expect((await readdir('/proc/self/fd')).length).toBe(openBefore);
  });
});

describe('controlFields (in-process, against dpkg-deb -f)', () => {
  it.each(['gzip', 'xz', 'zstd'])(
    'reads Package, Version and Architecture of a -Z%s deb as dpkg-deb -f does',
    async (z) => {
      const file = await deb(
        work.dir,
        `fields-${z}.deb`,
        { Package: 'hello', Version: '2:1.0~rc1-3', Architecture: 'all' },
        z,
      );
      const { stdout } = await execa('dpkg-deb', ['-f', '--', file, 'Package', 'Version', 'Architecture']);
      const dpkg = Object.fromEntries(stdout.split('\n').map((line) => line.split(': ') as [string, string]));
      expect(dpkg).toEqual({ Package: 'hello', Version: '2:1.0~rc1-3', Architecture: 'all' });
      expect(await controlFields(file, path.basename(file))).toEqual(dpkg);
    },
  );
});
