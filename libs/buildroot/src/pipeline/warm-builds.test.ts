import { access, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutOf } from '../context.ts';
import { mountsUnder } from '../host/mount-table.ts';
import { cleanup } from '../layers/cleanup.ts';
import { listDepLayers } from '../layers/dep-layers.ts';
import { leaseInstance } from '../layers/instance.ts';
import { createBuildHost, type BuildHost } from '@aoinb/testkit/build-host';
import { sha256File } from './collect-debs.ts';
import { runBuild } from './run-build.ts';

/**
 * Warm builds through the real pipeline (OverlayFS + systemd-nspawn + apt against
 * the Debian mirror): the shared apt archive cache, dependency layers reused by
 * later builds, a hostile build that tries to poison both, and instance refreshes
 * that keep the layers when nothing changed and drop them when something did.
 */
let host: BuildHost;
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  host = await createBuildHost();
});
afterAll(async () => {
  await host?.close();
});

async function bcBundle(name: string, extraBuild = ''): Promise<string> {
  const bundle = await host.exampleBundle(name);
  await writeFile(
    path.join(bundle, 'autobuild/defines'),
    'PKGNAME=hello-aoinb\nPKGSEC=utils\nPKGDES="Example with a build dependency"\nBUILDDEP="bc"\nABTYPE=self\n',
  );
  const build = await readFile(path.join(bundle, 'autobuild/build'), 'utf8');
  await writeFile(path.join(bundle, 'autobuild/build'), `${extraBuild}abinfo "bc says $(echo '6 * 7' | bc)"\n${build}`);
  return bundle;
}

async function build(buildId: string, bundle: string, mustSucceed = true) {
  const lines: string[] = [];
  const result = await runBuild(host.ctx, {
    buildId,
    bundleDir: bundle,
    branch: 'stable',
    onLogLine: (l) => lines.push(l),
  });
  if (mustSucceed) expect(result.reason, lines.slice(-60).join('\n')).toBeUndefined();
  return { result, lines, log: lines.join('\n') };
}

/** Every file of the host's apt cache with its hash. */
async function cacheDigest(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.deb'));
  const digests = await Promise.all(names.map(async (n) => [n, await sha256File(path.join(dir, n))] as const));
  return Object.fromEntries(digests);
}

/** A build script that tries to change what later builds get: the dependency layer's files and the apt cache. */
const hostile = [
  'echo "evil" > /var/cache/apt/archives/evil_9.9_amd64.deb && abinfo "wrote into the apt cache" || true',
  'for deb in /var/cache/apt/archives/*.deb; do ' +
    '[ -f "$deb" ] && echo evil > "$deb" && abinfo "overwrote $deb"; done || true',
  'printf "#!/bin/sh\\necho 0\\n" > "$(command -v bc)" && abinfo "replaced bc" || true',
  'echo "Status: purge ok not-installed" >> /var/lib/dpkg/status || true',
  '',
].join('\n');

describe('warm builds: shared apt cache and dependency layers', () => {
  it('two concurrent builds with one dependency set: one builds the layer, the other waits and reuses it', async () => {
    const [a, b] = await Promise.all([
      build('warm-a', await bcBundle('warm-a')),
      build('warm-b', await bcBundle('warm-b')),
    ]);
    const logs = [a.log, b.log];
    expect(logs.filter((l) => l.includes('[aoinb] building dependency layer'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('[aoinb] reusing dependency layer'))).toHaveLength(1);
    for (const run of [a, b]) {
      expect(run.result.status).toBe('succeeded');
      expect(run.lines.find((l) => l.includes('bc says'))).toMatch(/bc says 42/);
    }
    const layout = layoutOf(host.ctx);
    const layers = await listDepLayers(layout);
    expect(layers).toHaveLength(1);
    expect(layers[0]!.packages.some((p) => p.startsWith('bc='))).toBe(true);
    expect(layers[0]!.branch).toBe('stable');
    // Nothing of ours or of a bundle in the layer: only what apt and dpkg installed.
    expect(await exists(path.join(layout.depLayersDir, layers[0]!.key, 'layer/buildroot'))).toBe(false);
    expect((await readdir(layout.aptCacheDir)).some((f) => /^bc_.*\.deb$/.test(f))).toBe(true);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('a hostile build cannot change the layer or the apt cache for the next build', async () => {
    const layout = layoutOf(host.ctx);
    const cacheBefore = await cacheDigest(layout.aptCacheDir);
    // It may fail (it broke dpkg's status in its own workspace); what matters is the next build.
    const evil = await build('warm-evil', await bcBundle('warm-evil', hostile), false);
    expect(evil.log).toContain('[aoinb] reusing dependency layer');
    // Same instance generation, same names: apt's answer is recalled, apt is not started.
    expect(evil.log).not.toContain('[aoinb] apt resolved the build dependencies');
    // The cache is not in the build container at all: what it wrote went to its own workspace.
    expect(evil.log).not.toMatch(/overwrote \/var\/cache\/apt\/archives\/bc_/);
    expect(evil.log).toContain('replaced bc');
    expect(await cacheDigest(layout.aptCacheDir)).toEqual(cacheBefore);

    const next = await build('warm-next', await bcBundle('warm-next'));
    expect(next.log).toContain('[aoinb] reusing dependency layer');
    expect(next.lines.find((l) => l.includes('bc says'))).toMatch(/bc says 42/);
    const [layer] = await listDepLayers(layout);
    const status = await readFile(path.join(layout.depLayersDir, layer!.key, 'layer/var/lib/dpkg/status'), 'utf8');
    expect(status).not.toContain('purge ok not-installed');
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('a refresh finding nothing new keeps the generation and layers; one changing the lists drops them', async () => {
    const layout = layoutOf(host.ctx);
    const sourceList = path.join(host.configDir, 'source_lists/stable.list');
    const lines: string[] = [];
    // The fixture refreshes every 600 minutes: make the refresh due.
    const due = async () => writeFile(layout.instance('stable').stamp, JSON.stringify({ startedAt: 0 }));
    await due();
    const first = await leaseInstance(host.ctx, 'stable', sourceList, Date.now() + 1, { onLine: (l) => lines.push(l) });
    await first.release();
    const before = (await listDepLayers(layout)).map((l) => l.key);
    expect(first.refreshed).toBe(true);
    expect(lines).toContain('[aoinb] apt lists unchanged since the last upgrade: nothing to upgrade');
    expect(before).toHaveLength(1);
    expect((await listDepLayers(layout)).map((l) => l.key)).toEqual(before);

    // A list apt must fetch again: the lists change during the refresh, so it upgrades.
    const lists = path.join(layout.instance('stable').upper, 'var/lib/apt/lists');
    const release = (await readdir(lists)).find((f) => f.endsWith('_InRelease'));
    await rm(path.join(lists, release!));
    await due();
    const second = await leaseInstance(host.ctx, 'stable', sourceList, Date.now() + 1, {});
    await second.release();
    expect(second.generation).not.toBe(first.generation);
    expect(await listDepLayers(layout)).toEqual([]);
    const rebuilt = await build('warm-after-refresh', await bcBundle('warm-after-refresh'));
    expect(rebuilt.log).toContain('[aoinb] building dependency layer');
    // The .deb came from the host's cache, not the mirror: nothing downloaded twice.
    expect(rebuilt.log).not.toMatch(/^Get:\d+ \S+ \S+ \S+ bc /m);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });

  it('cleanup knows them: dep-layers drops every layer, an instance drops its own', async () => {
    const layout = layoutOf(host.ctx);
    expect(await listDepLayers(layout)).toHaveLength(1);
    expect(await cleanup(host.ctx, 'dep-layers')).toEqual(['1 dependency layer(s)']);
    expect(await listDepLayers(layout)).toEqual([]);
    await build('warm-before-cleanup', await bcBundle('warm-before-cleanup'));
    expect(await cleanup(host.ctx, 'stable')).toEqual(['instance stable', '1 dependency layer(s)']);
    expect(await listDepLayers(layout)).toEqual([]);
    expect(await mountsUnder(host.workDir)).toEqual([]);
  });
});
