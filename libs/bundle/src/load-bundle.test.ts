import { cp, mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { loadBundle } from './load-bundle.ts';
import { asyncErrorOf, fixtureTree } from '../test-support/test-helpers.ts';

const bundle = (rel: string): string => path.join(fixtureTree, rel);

describe('loadBundle on tree bundles', () => {
  it('app-utils/tree (single package, git source)', async () => {
    const b = await loadBundle(bundle('app-utils/tree'), 'amd64');
    expect(b).toMatchObject({
      arch: 'amd64',
      layout: 'single',
      isNoarch: false,
      archAllowed: true,
      dependencyNames: ['glibc'],
      provides: ['tree'],
    });
    expect(b.dir).toBe(path.resolve(bundle('app-utils/tree')));
    expect(b.packages).toHaveLength(1);
    expect(b.mainPackage).toMatchObject({
      order: 0,
      scriptDir: 'autobuild',
      definesFile: 'autobuild/defines',
      name: 'tree',
      buildable: true,
      dependsOn: ['glibc'],
    });
    expect(b.sources).toMatchObject([{ type: 'git', options: { commit: 'tags/2.1.1' } }]);
    expect(b.spec.version).toBe('2.1.1');
    const mips = await loadBundle(bundle('app-utils/tree'), 'mips64r6el');
    expect(mips.archAllowed).toBe(false);
    expect(mips.mainPackage.buildable).toBe(false);
  });

  it('app-admin/appstream (split packages next to spec, in NN order)', async () => {
    const b = await loadBundle(bundle('app-admin/appstream'), 'arm64');
    expect(b.layout).toBe('split');
    expect(b.packages.map((p) => [p.order, p.scriptDir, p.definesFile, p.name])).toEqual([
      [1, '01-appstream', '01-appstream/defines', 'appstream'],
      [2, '02-appstream-qt', '02-appstream-qt/defines', 'appstream-qt'],
    ]);
    expect(b.mainPackage.name).toBe('appstream');
    expect(b.provides).toEqual(['appstream', 'appstream-qt']);
    expect(b.dependencyNames).not.toContain('appstream');
    expect(b.dependencyNames).toEqual(expect.arrayContaining(['qt-5', 'qt-6', 'libxml2', 'vala']));
    expect(b.packages[1]?.dependsOn).toEqual(['appstream', 'qt-5', 'qt-6']);
  });

  it('runtime-display/mesa (overrides per arch; no FAIL_ARCH, so retro too)', async () => {
    const amd64 = await loadBundle(bundle('runtime-display/mesa'), 'amd64');
    expect(amd64.sources.map((s) => s.type)).toEqual(['tbl', 'git']);
    expect(amd64.spec.subdir).toBe('mesa-24.2.0');
    expect(amd64.archAllowed).toBe(true);
    expect(amd64.mainPackage.defines.epoch).toBe('1');
    expect(amd64.provides).toEqual(['mesa', 'libglx-mesa0']);
    const i486 = await loadBundle(bundle('runtime-display/mesa'), 'i486');
    expect(i486.archAllowed).toBe(true);
    expect(i486.mainPackage.dependsOn).toEqual([
      'x11-proto',
      'llvm',
      'mako',
      'mesa',
      'imake',
      'x11-lib',
      'elfutils',
      'libdrm',
      'libglvnd',
      'libva',
      'llvm-runtime',
      'expat',
      'systemd',
    ]);
    expect(i486.dependencyNames).not.toContain('mesa');
  });

  it('lang-python/certifi (noarch)', async () => {
    const b = await loadBundle(bundle('lang-python/certifi'), 'amd64');
    expect(b).toMatchObject({ isNoarch: true, archAllowed: true });
    expect(b.spec.release).toBe('0');
  });

  it('app-editors/vscode (sources only for the archs FAIL_ARCH allows)', async () => {
    expect((await loadBundle(bundle('app-editors/vscode'), 'arm64')).sources[0]?.url).toContain('linux-deb-arm64');
    const riscv = await loadBundle(bundle('app-editors/vscode'), 'riscv64');
    expect(riscv).toMatchObject({ archAllowed: false, sources: [] });
  });
});

describe('loadBundle: layouts and errors', () => {
  const work = useTempDir('aoinb-bundle-test-');
  let n = 0;

  async function make(files: Record<string, string>): Promise<string> {
    const dir = path.join(work.dir, `b${n++}`);
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    return dir;
  }

  const SPEC = 'VER=1.0\nDUMMYSRC=1\nENVREQ="core=4"\n';
  const defines = (name: string, extra = ''): string =>
    `PKGNAME=${name}\nPKGSEC=utils\nPKGDES="The ${name} package"\n${extra}`;

  it('reads autobuild/NN-name split packages (the layout in the contract)', async () => {
    const src = path.join(work.dir, 'appstream-copy');
    await cp(bundle('app-admin/appstream'), src, { recursive: true });
    await mkdir(path.join(src, 'autobuild'));
    await rename(path.join(src, '01-appstream'), path.join(src, 'autobuild/01-appstream'));
    await rename(path.join(src, '02-appstream-qt'), path.join(src, 'autobuild/02-appstream-qt'));
    const b = await loadBundle(src, 'amd64');
    expect(b.layout).toBe('split-in-autobuild');
    expect(b.packages.map((p) => p.definesFile)).toEqual([
      'autobuild/01-appstream/defines',
      'autobuild/02-appstream-qt/defines',
    ]);
  });

  it('orders split packages by number, not by name', async () => {
    const dir = await make({
      spec: SPEC,
      'autobuild/10-b/defines': defines('b'),
      'autobuild/9-a/defines': defines('a'),
      'autobuild/patches/x.patch': '',
    });
    expect((await loadBundle(dir, 'amd64')).packages.map((p) => p.name)).toEqual(['a', 'b']);
  });

  it('reads an arch-specific defines (autobuild/<arch>/ or autobuild/<group>/) as autobuild4 does', async () => {
    const dir = await make({
      spec: SPEC,
      'autobuild/defines': defines('x'),
      'autobuild/retro/defines': defines('x', 'PKGDEP=old\nALLOW_ARCH=retro\n'),
    });
    const i486 = await loadBundle(dir, 'i486');
    expect(i486.mainPackage).toMatchObject({
      definesFile: 'autobuild/retro/defines',
      dependsOn: ['old'],
      buildable: true,
    });
    expect((await loadBundle(dir, 'amd64')).mainPackage.definesFile).toBe('autobuild/defines');
  });

  it('seeds PKGVER/PKGREL for defines and merges ENVREQ from spec and defines', async () => {
    const dir = await make({
      spec: SPEC,
      'autobuild/defines': defines('x', 'PKGDEP="lib>=$PKGVER-$PKGREL"\nENVREQ="core=2 disk=40"\n'),
    });
    const b = await loadBundle(dir, 'amd64');
    expect(b.mainPackage.defines.deps.PKGDEP[0]?.constraint).toEqual({ op: '>=', version: '1.0-0' });
    expect(b.envreq).toEqual({ core: 4, diskGB: 40 });
  });

  it.each([
    [{ 'autobuild/defines': 'x' }, 'BUNDLE_INVALID', 'spec: file is missing'],
    [{ spec: SPEC, 'autobuild/build': '' }, 'BUNDLE_INVALID', 'autobuild/defines: file is missing'],
    [
      { spec: SPEC, README: '' },
      'BUNDLE_INVALID',
      'autobuild/defines: file is missing (and there are no NN-name/defines split packages)',
    ],
    [
      { spec: SPEC, 'autobuild/defines': defines('a'), 'autobuild/01-b/defines': defines('b') },
      'BUNDLE_INVALID',
      'autobuild/defines and autobuild/01-b/defines both exist: a bundle is either one package or split packages',
    ],
    [
      { spec: SPEC, 'autobuild/01-a/defines': defines('a'), 'autobuild/1-b/defines': defines('b') },
      'BUNDLE_INVALID',
      'autobuild/1-b: build order 1 is also used by autobuild/01-a',
    ],
    [
      { spec: SPEC, 'host/defines': defines('a') },
      'BUNDLE_INVALID',
      'host: split package folders are named NN-name (e.g. 01-host)',
    ],
    [
      {
        spec: SPEC,
        'autobuild/01-a/defines': defines('a'),
        'autobuild/02-b/defines': 'PKGNAME=b\nPKGSEC=x\nPKGDES=y\nPKGDEP="$(ls)"\n',
      },
      'BUNDLE_INVALID',
      'autobuild/02-b/defines:4: PKGDEP: command substitution $(...) cannot be evaluated statically',
    ],
    [
      { spec: 'VER=1.0\nSRCS="https://a/b.tar.gz"\nCHKSUMS="SKIP SKIP"\n', 'autobuild/defines': defines('a') },
      'BUNDLE_INVALID',
      'spec:3: CHKSUMS: CHKSUMS has 2 entries but SRCS (spec:2: SRCS) has 1; give one checksum (or SKIP) per source',
    ],
    [
      { spec: 'VER=1.0\n', 'autobuild/defines': defines('a') },
      'BUNDLE_INVALID',
      'spec: SRCS is missing (no SRCS or SRCS__AMD64); set DUMMYSRC=1 if the package has no source',
    ],
  ])('%j', async (files, code, message) => {
    const dir = await make(files);
    expect(await asyncErrorOf(() => loadBundle(dir, 'amd64'))).toEqual({ code, message });
  });

  it('refuses oversized metadata files', async () => {
    const dir = await make({
      spec: `VER=1.0\nDUMMYSRC=1\n${'#'.repeat(1024 * 1024 + 1)}\n`,
      'autobuild/defines': defines('a'),
    });
    expect(await asyncErrorOf(() => loadBundle(dir, 'amd64'))).toEqual({
      code: 'BUNDLE_INVALID',
      message: 'spec: 1048597 bytes is too large for a metadata file (limit 1048576)',
    });
  });

  it('refuses a defines reached through a folder link out of the bundle', async () => {
    const outside = await make({ defines: defines('evil') });
    const dir = await make({ spec: SPEC });
    await symlink(outside, path.join(dir, 'autobuild'));
    expect(await asyncErrorOf(() => loadBundle(dir, 'amd64'))).toEqual({
      code: 'BUNDLE_UNSAFE',
      message: 'autobuild/defines: not a regular file inside the bundle',
    });
  });

  it('refuses a spec that links out of the bundle', async () => {
    const dir = await make({ 'autobuild/defines': defines('a') });
    await symlink('/etc/passwd', path.join(dir, 'spec'));
    expect(await asyncErrorOf(() => loadBundle(dir, 'amd64'))).toEqual({
      code: 'BUNDLE_UNSAFE',
      message: 'spec: not a regular file inside the bundle',
    });
  });
});
