import { access, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { serveFolder } from '@aoinb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildrootContext } from '../context.ts';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from '../pipeline/run-build.ts';
import { loadBaseos, updateBaseos } from './baseos.ts';

let host: BuildHost;

beforeAll(async () => {
  host = await createBuildHost({ loadBase: false });
  await rm(path.join(host.workDir, `buildkit_${host.baseos.arch}.tar.zst`));
});
afterAll(async () => {
  await host?.close();
});

function withBaseos(patch: Partial<BuildrootContext['config']['baseos']>): BuildrootContext {
  return { ...host.ctx, config: { ...host.ctx.config, baseos: { ...host.ctx.config.baseos, ...patch } } };
}

async function leftovers(): Promise<string[]> {
  return (await readdir(host.workDir)).filter((name) => name.startsWith('baseos.new') || name.includes('.part'));
}

describe('load-baseos downloads', () => {
  it('fails clearly on a download error and leaves nothing half-written', async () => {
    const server = await serveFolder({ dir: path.dirname(host.baseos.tarball) });
    try {
      const ctx = withBaseos({ url: `${server.url}/missing.tar.zst` });
      await expect(loadBaseos(ctx)).rejects.toMatchObject({
        code: 'BASEOS_LOAD_FAILED',
        message: expect.stringMatching(/HTTP 404.*or place a tarball at/),
      });
      expect(await leftovers()).toEqual([]);
      await expect(access(path.join(host.workDir, 'baseos'))).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('downloads the tarball when no local one exists, with progress, then extracts it', async () => {
    const server = await serveFolder({ dir: path.dirname(host.baseos.tarball) });
    try {
      const ctx = withBaseos({ url: `${server.url}/${path.basename(host.baseos.tarball)}` });
      const progress: number[] = [];
      const loaded = await loadBaseos(ctx, { onProgress: (p) => progress.push(p.received) });
      expect(loaded).toEqual({
        tarball: path.join(host.workDir, `buildkit_${host.baseos.arch}.tar.zst`),
        downloaded: true,
      });
      expect(progress.length).toBeGreaterThan(1);
      expect(await readFile(path.join(host.workDir, 'baseos/etc/aoinb-test-baseos'), 'utf8')).toContain('TEST BASE OS');
      expect(await leftovers()).toEqual([]);
      // Special files and numeric owners survive extraction: /dev/null stays a device, /etc/shadow keeps group shadow.
      expect((await lstat(path.join(host.workDir, 'baseos/dev/null'))).isCharacterDevice()).toBe(true);
      const groups = await readFile(path.join(host.workDir, 'baseos/etc/group'), 'utf8');
      const shadowGid = Number(/^shadow:[^:]*:(\d+):/m.exec(groups)?.[1]);
      expect(shadowGid).toBeGreaterThan(0);
      expect((await lstat(path.join(host.workDir, 'baseos/etc/shadow'))).gid).toBe(shadowGid);
    } finally {
      await server.close();
    }
  });

  it('rejects a tarball that holds no root filesystem', async () => {
    const bogus = path.join(host.dir, 'bogus');
    await mkdir(bogus, { recursive: true });
    await writeFile(path.join(bogus, 'README'), 'not a rootfs');
    const { execa } = await import('execa');
    await execa('tar', ['-czf', path.join(host.dir, 'bogus.tar.gz'), '-C', bogus, '.']);
    const server = await serveFolder({ dir: host.dir });
    const other = {
      ...host.ctx,
      config: {
        ...host.ctx.config,
        workDir: path.join(host.dir, 'work2'),
        baseos: { ...host.ctx.config.baseos, url: `${server.url}/bogus.tar.gz` },
      },
    };
    try {
      await expect(loadBaseos(other)).rejects.toThrow(/holds no root filesystem/);
      expect((await readdir(path.join(host.dir, 'work2'))).filter((n) => n.startsWith('baseos'))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('update-baseos', () => {
  it('keeps the base OS unchanged when apt fails', async () => {
    await writeFile(path.join(host.workDir, 'baseos/etc/marker'), 'before');
    const listFile = path.join(host.dir, 'broken.list');
    await writeFile(listFile, 'deb http://127.0.0.1:9/debian bookworm main\n');
    const lines: string[] = [];
    await expect(updateBaseos(withBaseos({ sourcesList: listFile }), { onLine: (l) => lines.push(l) })).rejects.toThrow(
      /the base OS is unchanged/,
    );
    expect(await readFile(path.join(host.workDir, 'baseos/etc/marker'), 'utf8')).toBe('before');
    expect(await readFile(path.join(host.workDir, 'baseos/etc/apt/sources.list'), 'utf8')).not.toContain('127.0.0.1:9');
    expect(await leftovers()).toEqual([]);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('refreshes the base OS from the configured sources list and resets instances', async () => {
    const bundle = await host.exampleBundle();
    expect((await runBuild(host.ctx, { buildId: 'before-update', bundleDir: bundle, branch: 'stable' })).status).toBe(
      'succeeded',
    );
    await access(path.join(host.workDir, 'instances/stable'));
    const listFile = path.join(host.dir, 'baseos.list');
    await writeFile(listFile, host.baseos.sourcesList);
    const lines: string[] = [];
    await updateBaseos(withBaseos({ sourcesList: listFile }), { onLine: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/Reading package lists/);
    expect(await readFile(path.join(host.workDir, 'baseos/etc/apt/sources.list'), 'utf8')).toBe(
      host.baseos.sourcesList,
    );
    await expect(access(path.join(host.workDir, 'instances/stable'))).rejects.toThrow();
    expect(await leftovers()).toEqual([]);
    // Builds go on over the updated base, with a fresh instance.
    expect((await runBuild(host.ctx, { buildId: 'after-update', bundleDir: bundle, branch: 'stable' })).status).toBe(
      'succeeded',
    );
  });
});
