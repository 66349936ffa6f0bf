import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder, runContainer } from '@aoinb/buildroot';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { freePort, mountOverlayFixture } from '@aoinb/testkit';
import { startFarmUp, type FarmUpProcess } from '../test-support/farm-up-process.ts';

/** Polls `check` until it holds; throws naming `what` once `ms` have passed. */
async function waitUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const bin = fileURLToPath(new URL('../bin/aoinb.js', import.meta.url));
let host: BuildHost;
let farm: FarmUpProcess | undefined;
let url: string;
const token = 'farm-e2e-maintainer-token';

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  host = await createBuildHost({
    extraToml: [
      '[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 0.5',
      `[coordinator]\nlisten = "127.0.0.1:${port}"`,
      '[[tokens]]\nname = "maint"\nrole = "maintainer"\nfile = "secrets/maint.token"',
      '[[tokens]]\nname = "w"\nrole = "worker"\nfile = "secrets/worker.token"',
    ].join('\n\n'),
    beforeConfigLoad: async (configDir) => {
      await mkdir(path.join(configDir, 'secrets'), { recursive: true });
      await writeFile(path.join(configDir, 'secrets/maint.token'), token);
      await writeFile(path.join(configDir, 'secrets/worker.token'), 'farm-e2e-worker-token');
    },
  });
  farm = await startFarmUp(bin, host.configDir);
});

afterAll(async () => {
  await farm?.stop();
  await host?.close();
});

describe('aoinb farm up: the embedded farm through the real pipeline', () => {
  it('builds a submitted bundle, serves the .deb and installs it with apt from the farm repository', async () => {
    const submit = await execa(
      process.execPath,
      [bin, '-c', host.configDir, 'submit', await host.exampleBundle(), '--branch', 'stable'],
      { reject: false, all: true },
    );
    expect(submit.exitCode, submit.all).toBe(0);
    expect(submit.stdout).toContain('Building hello-aoinb');
    const id = /submitted .* as task (\d+)/.exec(submit.stderr)?.[1];
    expect(id).toBeDefined();

    const status = JSON.parse(
      (await execa(process.execPath, [bin, '-c', host.configDir, 'status', id!, '--json'])).stdout,
    );
    expect(status.state).toBe('succeeded');
    // autobuild4 makes the package and its -dbg; both are published.
    const names = status.jobs[0].artifacts.map((a: { name: string }) => a.name);
    expect(names).toEqual([
      `hello-aoinb-dbg_1.0-0_${host.baseos.arch}.deb`,
      `hello-aoinb_1.0-0_${host.baseos.arch}.deb`,
    ]);
    const artifact = status.jobs[0].artifacts[1];
    const deb = Buffer.from(
      await (await fetch(artifact.url, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer(),
    );
    expect(createHash('sha256').update(deb).digest('hex')).toBe(artifact.sha256);

    const packages = await (await fetch(`${url}/repo/stable/Packages`)).text();
    expect(packages).toMatch(/^Package: hello-aoinb$/m);
    expect(packages).toContain(`SHA256: ${artifact.sha256}`);

    // apt-get install from the farm's repository, inside a fresh container of the test base OS.
    const overlay = await mountOverlayFixture({ lower: host.baseos.rootfsDir, parentDir: host.dir });
    try {
      const key = await (await fetch(`${url}/repo/stable/aoinb-archive-key.asc`)).text();
      await mkdir(path.join(overlay.merged, 'etc/apt/keyrings'), { recursive: true });
      await writeFile(path.join(overlay.merged, 'etc/apt/keyrings/aoinb-archive-key.asc'), key);
      await writeFile(
        path.join(overlay.merged, 'etc/apt/sources.list'),
        `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] ${url}/repo/stable ./\n`,
      );
      const lines: string[] = [];
      const exit = await runContainer({
        root: overlay.merged,
        machine: `aoinb-apt-${process.pid}`,
        command: [
          '/bin/sh',
          '-c',
          'apt-get update -q --error-on=any && apt-get install -y -q hello-aoinb && hello-aoinb',
        ],
        env: { DEBIAN_FRONTEND: 'noninteractive' },
        network: 'host', // apt from the farm's repository on the host's loopback
        onLine: (line) => lines.push(line),
      });
      expect(exit.exitCode, lines.join('\n')).toBe(0);
      expect(lines.join('\n')).toMatch(/Setting up hello-aoinb \(1\.0\)/);
    } finally {
      await overlay.unmount();
    }
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('submits a batch with a live table; logs, cancel and retry work from the CLI', async () => {
    const run = (args: string[]) =>
      execa(process.execPath, [bin, '-c', host.configDir, ...args], { reject: false, all: true });
    const good = await host.exampleBundle('batch-good');
    const bad = await host.exampleBundle('batch-bad');
    // A new release: the repository refuses hello-aoinb 1.0-0 rebuilt with other bytes.
    await appendFile(path.join(good, 'spec'), 'REL=1\n');
    await writeFile(path.join(bad, 'autobuild/build'), 'aberr "broken on purpose"\nexit 7\n');
    const batch = await run(['submit', good, bad, '--branch', 'stable']);
    expect(batch.exitCode, batch.all).toBe(1);
    expect(batch.stdout).toMatch(/TASK +PACKAGE +ARCH +STATE/);
    expect(batch.stdout).toMatch(/succeeded .*hello-aoinb_1\.0-1_\w+\.deb/);
    expect(batch.stdout).toMatch(/failed .*build\.sh exited with status 7/);
    const badId = [...batch.stderr.matchAll(/as task (\d+)/g)][1]![1]!;

    const log = await run(['logs', badId]);
    expect(log.stdout).toContain('broken on purpose');
    const followed = await run(['logs', '-f', badId]);
    expect(followed.exitCode).toBe(1);
    expect(followed.stdout).toContain('broken on purpose');
    expect(followed.stderr).toContain(`task ${badId}: failed`);

    // A retry is a new run of the stored bundle (still broken): it must run again and fail again.
    const retry = await run(['retry', badId]);
    expect(retry.exitCode, retry.all).toBe(0);
    expect(retry.stdout).toMatch(new RegExp(`task ${badId}: (queued|running)`));
    const retried = await run(['logs', '-f', badId]);
    expect(retried.stderr, retried.all).toContain(`task ${badId}: failed`);
    const afterRetry = JSON.parse((await run(['status', badId, '--json'])).stdout);
    expect(afterRetry.jobs[0]).toMatchObject({ state: 'failed', run: 2 });

    const slow = await host.exampleBundle('batch-slow');
    await writeFile(path.join(slow, 'autobuild/build'), 'abinfo "sleeping"\nsleep 300\n');
    const submitted = await run(['submit', slow, '--branch', 'stable', '--no-wait']);
    const slowId = submitted.stdout.trim();
    await waitUntil(async () => (await run(['logs', slowId])).stdout.includes('sleeping'), 120_000, 'the slow build');
    const cancel = await run(['cancel', slowId]);
    expect(cancel.exitCode, cancel.all).toBe(0);
    const end = await run(['logs', '-f', slowId]);
    expect(end.stderr).toContain(`task ${slowId}: cancelled`);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  }, 600_000);

  it('lists the local worker as a builder', async () => {
    const builders = JSON.parse(
      (await execa(process.execPath, [bin, '-c', host.configDir, 'builders', '--json'])).stdout,
    );
    expect(builders.builders).toEqual([
      expect.objectContaining({ state: expect.stringMatching(/^(idle|building)$/), arch_tags: [host.ctx.config.arch] }),
    ]);
  });
});
