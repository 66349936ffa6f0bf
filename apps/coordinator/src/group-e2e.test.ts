import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '@aoinb/buildroot';
import { writeFakeBundleAt } from '@aoinb/testkit';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { FarmHarness, farmTokens, groupStatus, member, ms } from '@aoinb/farm-harness';

/**
 * A group through the real pipeline: the coordinator and two worker agents
 * (processes, nspawn executor, sharing one work dir with the test base OS:
 * the buildroot's locks make that safe) build an ABBS tree group submitted
 * with `aoinb group`. libb's build checks that liba's files are installed
 * (from the group's apt repository), app's that both are.
 */
const cli = fileURLToPath(new URL('../../cli/bin/aoinb.js', import.meta.url));

const bundles: Record<string, { defines: string[]; build: string[] }> = {
  'app-libs/e2e-liba': {
    defines: [],
    build: [
      'abinfo "liba: building"',
      'sleep 6',
      'install -d "$PKGDIR"/usr/share/e2e-liba',
      'echo "liba 1.0" > "$PKGDIR"/usr/share/e2e-liba/marker',
    ],
  },
  'app-libs/e2e-libb': {
    defines: ['BUILDDEP="e2e-liba"'],
    build: [
      '[ -f /usr/share/e2e-liba/marker ] || { aberr "e2e-liba is not installed"; exit 1; }',
      'abinfo "libb: found $(cat /usr/share/e2e-liba/marker)"',
      'apt-cache policy e2e-liba',
      'install -d "$PKGDIR"/usr/share/e2e-libb',
      'echo "libb 1.0" > "$PKGDIR"/usr/share/e2e-libb/marker',
    ],
  },
  'app-utils/e2e-app': {
    defines: ['BUILDDEP="e2e-liba e2e-libb"'],
    build: [
      'for m in liba libb; do [ -f /usr/share/e2e-$m/marker ] || { aberr "e2e-$m is not installed"; exit 1; }; done',
      'install -d "$PKGDIR"/usr/bin',
      'printf "#!/bin/sh\\necho app\\n" > "$PKGDIR"/usr/bin/e2e-app',
      'chmod 755 "$PKGDIR"/usr/bin/e2e-app',
    ],
  },
  'app-utils/e2e-tool': {
    defines: [],
    build: [
      'abinfo "tool: building"',
      'sleep 6',
      'install -d "$PKGDIR"/usr/share/e2e-tool',
      'echo tool > "$PKGDIR"/usr/share/e2e-tool/marker',
    ],
  },
};

async function writeTree(root: string): Promise<string> {
  const tree = path.join(root, 'abbs');
  for (const [dir, b] of Object.entries(bundles)) {
    // Scripts and data only: ABSPLITDBG=0, or autobuild4 fails for want of ELF symbols for a -dbg package.
    const defines = ['ABTYPE=self', 'ABSPLITDBG=0', ...b.defines];
    await writeFakeBundleAt(path.join(tree, dir), { name: path.basename(dir), defines, build: b.build });
  }
  await mkdir(path.join(tree, 'groups'), { recursive: true });
  await writeFile(
    path.join(tree, 'groups/e2e-stack'),
    [
      '# a stack and a tool',
      'app-utils/e2e-app',
      'app-libs/e2e-libb:+stage2',
      '',
      'groups/e2e-base',
      'groups/e2e-tools  # nested',
    ].join('\n'),
  );
  await writeFile(path.join(tree, 'groups/e2e-base'), 'app-libs/e2e-liba\n');
  await writeFile(path.join(tree, 'groups/e2e-tools'), 'app-utils/e2e-tool\napp-libs/e2e-liba\n');
  return tree;
}

describe('a group through the real pipeline (two nspawn workers)', () => {
  let host: BuildHost;
  let farm: FarmHarness;
  const buildToml = '[build]\ninstance_refresh_minutes = 600\nsample_interval_seconds = 0.5';

  beforeAll(async () => {
    host = await createBuildHost({ extraToml: buildToml });
    farm = await FarmHarness.create({
      archs: [host.baseos.arch],
      sourceLists: { stable: host.baseos.sourcesList },
      extraToml: buildToml,
    });
    await farm.startCoordinator();
    const worker = (id: string) =>
      farm.startWorker({ id, archs: [host.baseos.arch], executor: 'nspawn', workDir: host.workDir, lockSeconds: 15 });
    await Promise.all([worker('host-1'), worker('host-2')]);
  });

  afterAll(async () => {
    await farm?.stop();
    await host?.close();
  });

  it('aoinb group builds liba, libb, app in order against the group repo, with tool alongside liba', async () => {
    const tree = await writeTree(farm.root);
    const env = { AOINB_URL: farm.coordinatorUrl, AOINB_TOKEN: farmTokens.maintainer };
    const run = await execa(
      process.execPath,
      [cli, 'group', '--tree', tree, 'groups/e2e-stack', '--branch', 'stable'],
      { env, reject: false, all: true, timeout: 150_000 },
    );
    expect(run.exitCode, run.all).toBe(0);
    const id = /as group (\d+)/.exec(run.stderr)?.[1] as string;
    expect(run.stdout).toMatch(/TASK +PACKAGE +ARCH +STATE +BUILDER/);
    expect(run.stdout).toMatch(new RegExp(`group ${id} \\(dag, publish each, branch stable\\): succeeded`));

    const s = await groupStatus(farm, id);
    expect(s.members.map((m) => m.package)).toEqual(['e2e-liba', 'e2e-libb', 'e2e-app', 'e2e-tool']);
    expect(s.members.every((m) => m.state === 'succeeded')).toBe(true);
    const [liba, libb, app, tool] = ['e2e-liba', 'e2e-libb', 'e2e-app', 'e2e-tool'].map((p) => member(s, p));
    expect(ms(libb!.started_at)).toBeGreaterThanOrEqual(ms(liba!.finished_at));
    expect(ms(app!.started_at)).toBeGreaterThanOrEqual(ms(libb!.finished_at));
    // tool alongside liba, as the scheduler decided it: no dependency, released with liba in round 1 (before
    // liba finished). Whether the second host's container started in time is not the scheduler's: the overlap
    // itself is held causally in group-dependencies.test.ts.
    expect(tool!.depends_on).toEqual([]);
    expect([tool!.round, liba!.round]).toEqual([1, 1]);
    expect(ms(tool!.queued_at)).toBeLessThan(ms(liba!.finished_at));

    const libbLog = (await farm.api('GET', `/task/${libb!.task_id}/log`)).text;
    expect(libbLog).toContain(`/group/${id}/repo`);
    // autobuild4 installs BUILDDEP with apt-get build-dep, here from the group's repository.
    expect(libbLog).toMatch(/The following NEW packages will be installed:\n +e2e-liba\n/);
    expect(libbLog).toMatch(/Get:\d+ \S+\/group\/\d+\/repo \.\/ e2e-liba 1\.0 /);
    expect(libbLog).toContain('libb: found liba 1.0');
    // The group repository is pinned above the branch (apt_preferences by its Release codename).
    expect(libbLog).toMatch(new RegExp(`^ +990 ${farm.coordinatorUrl}/group/${id}/repo \\./ Packages$`, 'm'));
    const packages = (await farm.api('GET', '/repo/stable/Packages', undefined, { token: null })).text;
    for (const name of ['e2e-liba', 'e2e-libb', 'e2e-app', 'e2e-tool'])
      expect(packages).toMatch(new RegExp(`^Package: ${name}$`, 'm'));

    const shown = await execa(process.execPath, [cli, 'group', 'status', id], { env, reject: false, all: true });
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toMatch(/e2e-app +amd64|e2e-app +\w+ +succeeded/);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });
});
