import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

/**
 * Per-build limits through the real pipeline: the kernel (cgroup memory and pids
 * controllers) or the meter (disk) stops a hostile build, the result names the
 * limit, and the host builds normally afterwards.
 */
let host: BuildHost;

beforeAll(async () => {
  host = await createBuildHost({
    extraToml: [
      '[build]',
      'instance_refresh_minutes = 600',
      'sample_interval_seconds = 0.5',
      'memory_limit_mib = 256',
      'pids_limit = 200',
      'disk_limit_mib = 512',
    ].join('\n'),
  });
});
afterAll(async () => {
  await host?.close();
});

async function hostile(name: string, script: string) {
  const bundle = await host.exampleBundle(name);
  await writeFile(path.join(bundle, 'autobuild/build'), `${script}\n`);
  const started = Date.now();
  const result = await runBuild(host.ctx, { buildId: name, bundleDir: bundle, branch: 'stable', timeoutMs: 120_000 });
  return { result, seconds: (Date.now() - started) / 1000 };
}

async function expectContained(): Promise<void> {
  expect(await mountsUnder(host.workDir)).toEqual([]);
  expect((await execa('pgrep', ['-f', `--directory=${host.workDir}`], { reject: false })).stdout).toBe('');
}

describe('per-build limits', () => {
  it('kills a fork bomb at the process limit and names it', async () => {
    const { result, seconds } = await hostile('forkbomb', 'bomb() { bomb | bomb & }; bomb; sleep 100');
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('killed: the build reached its process limit of 200');
    expect(seconds).toBeLessThan(100);
    await expectContained();
  });

  it('stops a build that allocates past the memory limit and names it', async () => {
    // tail keeps the current line in memory, and /dev/zero has no newline.
    const { result } = await hostile('hog', 'tail /dev/zero');
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('killed: the build reached its memory limit of 256 MiB');
    expect(result.resources.peakMemoryBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
    await expectContained();
  });

  it('kills a build that writes past the workspace disk limit and names it', async () => {
    const { result, seconds } = await hostile(
      'filler',
      'dd if=/dev/zero of=/buildroot/filler bs=1M count=700 status=none; sleep 100',
    );
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('killed: the build reached its disk limit of 512 MiB');
    expect(seconds).toBeLessThan(100);
    await expectContained();
  });

  it('still builds a legitimate package within the same limits afterwards', async () => {
    const result = await runBuild(host.ctx, {
      buildId: 'after-limits',
      bundleDir: await host.exampleBundle('after-limits'),
      branch: 'stable',
    });
    expect(result.reason).toBeUndefined();
    expect(result.status).toBe('succeeded');
    await expectContained();
  });
});
