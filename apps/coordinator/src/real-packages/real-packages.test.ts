import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '@aoinb/buildroot';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { mountOverlayFixture, runInNspawn } from '@aoinb/testkit';
import { FarmHarness, farmTokens, type TaskStatus } from '@aoinb/farm-harness';
import { publicKeyName } from '../repo/repo-signer.ts';
import { loadOverlay, packageKinds } from './overlay.ts';
import { prepareRealPackages, type PreparedPackage, type RealPackages } from './prepare.ts';

/**
 * Real packages of the ABBS snapshot, one per kind of build (ABTYPE=self,
 * autotools, cmake and meson as autobuild4 detects them, a noarch one and a
 * split one, see docs/real-packages.md), built by AOSC's real autobuild4 through the farm: the
 * coordinator and two nspawn worker agents as processes, `aoinb submit` of
 * each bundle (overlaid by overlay.toml: sources from Debian's .orig files on
 * loopback, Debian dependency names). Each resulting package is then installed
 * with apt from the farm's repository in a fresh container and run.
 */
const cli = fileURLToPath(new URL('../../../cli/bin/aoinb.js', import.meta.url));
const maintainer = 'aoinb real-package tests <real-packages@aoinb.invalid>';
const buildToml = `[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 1\nmaintainer = "${maintainer}"`;

let host: BuildHost;
let farm: FarmHarness;
let real: RealPackages;

beforeAll(async () => {
  host = await createBuildHost({ extraToml: buildToml });
  // AOINB_REAL_PACKAGES=a/b,c/d narrows a local run to some packages; CI builds them all.
  const only = process.env.AOINB_REAL_PACKAGES?.split(',').filter(Boolean);
  real = await prepareRealPackages({ dir: path.join(host.dir, 'real-bundles'), arch: host.baseos.arch, only });
  // The .orig files are served on loopback, which workers refuse to fetch from unless allowlisted.
  const sourceAllow = [`127.0.0.1:${real.server.port}`];
  farm = await FarmHarness.create({
    archs: [host.baseos.arch],
    sourceLists: { stable: host.baseos.sourcesList },
    extraToml: buildToml,
    sourceAllow,
  });
  await farm.startCoordinator();
  const worker = (id: string) =>
    farm.startWorker({ id, archs: [host.baseos.arch], executor: 'nspawn', workDir: host.workDir, lockSeconds: 30 });
  await Promise.all([worker('real-1'), worker('real-2')]);
}, 600_000);

afterAll(async () => {
  await farm?.stop();
  await real?.close();
  await host?.close();
});

/**
 * apt-get install from the farm's repository (and the Debian mirror) in a fresh container, then the package's
 * check. The repository is trusted as a user would: by the farm's public key, fetched from the farm.
 */
async function installAndRun(p: PreparedPackage): Promise<{ exitCode: number | undefined; all: string }> {
  const keyAnswer = await fetch(`${farm.coordinatorUrl}/repo/stable/${publicKeyName}`);
  expect(keyAnswer.status).toBe(200);
  const key = await keyAnswer.text();
  const overlay = await mountOverlayFixture({ lower: host.baseos.rootfsDir, parentDir: host.dir });
  try {
    await mkdir(path.join(overlay.merged, 'etc/apt/keyrings'), { recursive: true });
    await writeFile(path.join(overlay.merged, 'etc/apt/keyrings', publicKeyName), key);
    const farmRepo = `deb [signed-by=/etc/apt/keyrings/${publicKeyName}] ${farm.coordinatorUrl}/repo/stable ./`;
    await writeFile(path.join(overlay.merged, 'etc/apt/sources.list'), `${host.baseos.sourcesList}${farmRepo}\n`);
    const script = [
      'set -e',
      'apt-get update -q --error-on=any >/dev/null',
      `apt-get install -y -q --no-install-recommends ${p.pkg.install.join(' ')}`,
      `echo "== check ${p.pkg.path}"`,
      p.pkg.check,
    ].join('\n');
    return await runInNspawn({
      root: overlay.merged,
      command: ['/bin/sh', '-c', script],
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    });
  } finally {
    await overlay.unmount();
  }
}

describe('real ABBS packages built by the real autobuild4 through the farm', () => {
  it('the overlay covers every kind of build', async () => {
    const kinds = new Set((await loadOverlay()).packages.map((p) => p.kind));
    expect(kinds).toEqual(new Set(packageKinds));
  });

  it('aoinb submit builds each one; every package installs and runs in a fresh container', async () => {
    const env = { AOINB_URL: farm.coordinatorUrl, AOINB_TOKEN: farmTokens.maintainer };
    const dirs = real.packages.map((p) => p.bundleDir);
    const run = await execa(process.execPath, [cli, 'submit', ...dirs, '--branch', 'stable'], {
      env,
      reject: false,
      all: true,
      timeout: 1_500_000,
    });
    const ids = [...run.stderr.matchAll(/as task (\d+)/g)].map((m) => m[1] as string);
    const statuses = await Promise.all(
      ids.map(async (id) => (await farm.api('GET', `/task/${id}/status`)).body as TaskStatus),
    );
    const logs = await Promise.all(
      statuses
        .filter((s) => s.state !== 'succeeded')
        .map(async (s) => `--- task ${s.id}\n${(await farm.api('GET', `/task/${s.id}/log`)).text.slice(-6000)}`),
    );
    expect(run.exitCode, `${run.all}\n${logs.join('\n')}`).toBe(0);
    expect(ids).toHaveLength(real.packages.length);
    for (const [i, s] of statuses.entries()) {
      const job = s.jobs[0];
      const seconds =
        job?.started_at && job.finished_at
          ? ((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000).toFixed(1)
          : '?';
      process.stderr.write(`[real packages] ${real.packages[i]?.pkg.path}: built on ${job?.builder} in ${seconds} s\n`);
    }

    const index = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    const stanzas = new Map(index.split(/\n\n+/).map((st) => [/^Package: (\S+)$/m.exec(st)?.[1], st] as const));
    for (const p of real.packages) {
      for (const name of p.pkg.debs) {
        const stanza = stanzas.get(name) ?? '';
        expect(stanza, `${p.pkg.path}: ${name} in the farm repository`).toMatch(/^Version: /m);
        // Written by the real autobuild4: the farm's maintainer; noarch is Architecture: all.
        expect(stanza).toContain(`Maintainer: ${maintainer}`);
        expect(stanza).toContain(`Architecture: ${p.pkg.archAll.includes(name) ? 'all' : host.baseos.arch}`);
      }
    }

    for (const p of real.packages) {
      const result = await installAndRun(p);
      expect(result.exitCode, `${p.pkg.path}:\n${result.all.slice(-4000)}`).toBe(0);
      expect(result.all).toContain(`== check ${p.pkg.path}`);
    }
    expect(await mountsUnder(host.workDir)).toEqual([]);
  }, 1_800_000);
});
