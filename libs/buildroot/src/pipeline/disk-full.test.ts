import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../host/mount-table.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { runBuild } from './run-build.ts';

/**
 * The real pipeline (OverlayFS, systemd-nspawn, autobuild4) with its log
 * folder on a full file system (a 1 MiB tmpfs, filled): the write error of the
 * log must end the build as a `disk-full` result, not kill the process, and
 * leave no mount behind.
 */
describe('runBuild on a full log disk', () => {
  let host: BuildHost;
  let logsDir = '';

  beforeAll(async () => {
    host = await createBuildHost();
    logsDir = path.join(host.workDir, 'logs');
    await mkdir(logsDir, { recursive: true });
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', logsDir]);
    await execa('dd', ['if=/dev/zero', `of=${path.join(logsDir, 'filler')}`, 'bs=64k'], { reject: false });
  });
  afterAll(async () => {
    if (logsDir) await execa('umount', ['-l', logsDir], { reject: false });
    await host?.close();
  });

  it('fails the build as disk-full with the reason, keeps the live log, and releases every mount', async () => {
    const lines: string[] = [];
    const result = await runBuild(host.ctx, {
      buildId: 'full-log-1',
      bundleDir: await host.exampleBundle(),
      branch: 'stable',
      onLogLine: (line) => lines.push(line),
    });
    expect(result.status).toBe('failed');
    expect(result.failureClass).toBe('disk-full');
    expect(result.reason).toMatch(/build log could not be written: ENOSPC/);
    expect(result.artifacts).toEqual([]);
    // The live listener (the farm's log stream) still got the build's lines.
    expect(lines.length).toBeGreaterThan(10);
    expect(lines[lines.length - 1]).toMatch(/^\[aoinb\] failed: the build log could not be written/);
    expect((await mountsUnder(host.workDir)).filter((m) => m.target !== logsDir)).toEqual([]);
    expect(await readdir(path.join(host.workDir, 'workspaces'))).toEqual([]);
  });
});
