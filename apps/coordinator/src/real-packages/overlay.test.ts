import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle, parseDependencyList } from '@aoinb/bundle';
import { loadOverlay, mapDependencies, writeOverlaidBundle, type Overlay, type RealPackage } from './overlay.ts';

const sha = 'bf88c40fd0f077dab2712f54f8d39ac952e4e9f2e1882f1195be9e5e4257417d';
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'aoinb-overlay-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

const pkg = (over: Partial<RealPackage> = {}): RealPackage => ({
  path: 'app-utils/demo',
  kind: 'self',
  suite: 'trixie',
  source: 'demo',
  version: '1.0-1',
  orig: 'demo_1.0.orig.tar.gz',
  identical: true,
  archAll: [],
  set: new Map(),
  builddep: ['cmake'],
  debs: ['demo'],
  install: ['demo'],
  check: 'demo',
  ...over,
});
const overlay: Overlay = {
  dependencies: new Map([
    ['glibc', ['libc6']],
    ['ncurses', ['libncurses-dev']],
  ]),
  packages: [],
};
const spec = `VER=1.0\nSRCS="tbl::https://example.org/demo-$VER.tar.gz"\nCHKSUMS="sha256::${sha}"\n`;
const source = { url: 'http://127.0.0.1:4000/demo_1.0.orig.tar.gz', sha256: sha };

describe('the real-package test overlay', () => {
  it('loads overlay.toml: every package names its kind, Debian source and checks', async () => {
    const loaded = await loadOverlay();
    expect(loaded.packages.length).toBeGreaterThanOrEqual(5);
    expect(loaded.dependencies.get('glibc')).toEqual(['libc6']);
    for (const p of loaded.packages) expect(p.orig.startsWith(`${p.source}_`)).toBe(true);
  });

  it('maps AOSC names to Debian ones, dropping AOSC versions of mapped names only', () => {
    const deps = parseDependencyList('glibc>=2.30 ncurses perl>=5.36 glibc', 'PKGDEP');
    expect(mapDependencies(deps, overlay.dependencies)).toEqual(['libc6', 'libncurses-dev', 'perl>=5.36']);
  });

  it('writes an overlaid copy: loopback SRCS, Debian names, build tools; the tree is untouched', async () => {
    const root = await tree({
      'app-utils/demo/spec': spec,
      'app-utils/demo/autobuild/defines':
        'PKGNAME=demo\nPKGSEC=utils\nPKGDES="demo"\nPKGDEP="glibc ncurses"\nBUILDDEP="perl"\n',
    });
    const dest = path.join(root, 'out');
    await writeOverlaidBundle({ treeDir: root, pkg: pkg(), overlay, source, arch: 'amd64', destDir: dest });
    const bundle = await loadBundle(dest, 'amd64');
    expect(bundle.sources[0]).toMatchObject({ url: source.url, checksum: { algo: 'sha256', hex: sha } });
    expect(bundle.mainPackage.defines.deps.PKGDEP.map((d) => d.raw)).toEqual(['libc6', 'libncurses-dev']);
    expect(bundle.mainPackage.defines.deps.BUILDDEP.map((d) => d.raw)).toEqual(['perl', 'cmake']);
    expect(await readFile(path.join(dest, 'spec'), 'utf8')).toContain('aoinb TEST OVERLAY');
    expect(await readFile(path.join(root, 'app-utils/demo/spec'), 'utf8')).toBe(spec);
  });

  it('overlays every NN-name/ package of a split bundle', async () => {
    const part = (n: string) => `PKGNAME=${n}\nPKGSEC=utils\nPKGDES="x"\nPKGDEP="glibc"\n`;
    const root = await tree({
      'app-utils/demo/spec': spec,
      'app-utils/demo/01-demo/defines': part('demo'),
      'app-utils/demo/02-demo-doc/defines': part('demo-doc'),
    });
    const dest = path.join(root, 'out');
    await writeOverlaidBundle({ treeDir: root, pkg: pkg(), overlay, source, arch: 'amd64', destDir: dest });
    const bundle = await loadBundle(dest, 'amd64');
    expect(bundle.packages.map((p) => p.defines.deps.PKGDEP.map((d) => d.raw))).toEqual([['libc6'], ['libc6']]);
  });

  it('refuses a claim of identical sources the checksum contradicts; sets the checksum if not identical', async () => {
    const root = await tree({
      'app-utils/demo/spec': spec,
      'app-utils/demo/autobuild/defines': 'PKGNAME=demo\nPKGSEC=utils\nPKGDES="demo"\n',
    });
    const other = { ...source, sha256: 'a'.repeat(64) };
    await expect(
      writeOverlaidBundle({
        treeDir: root,
        pkg: pkg(),
        overlay,
        source: other,
        arch: 'amd64',
        destDir: path.join(root, 'a'),
      }),
    ).rejects.toThrow(
      /says Debian's demo_1\.0\.orig\.tar\.gz is identical to upstream, but its sha256 a{64} is not the spec's bf88c40f/,
    );
    await writeOverlaidBundle({
      treeDir: root,
      pkg: pkg({ identical: false }),
      overlay,
      source: other,
      arch: 'amd64',
      destDir: path.join(root, 'b'),
    });
    expect((await loadBundle(path.join(root, 'b'), 'amd64')).sources[0]?.checksum?.hex).toBe('a'.repeat(64));
  });

  it('bumps VER when asked: the bundle reads the new version, its checksum is the .orig one', async () => {
    const root = await tree({
      'app-utils/demo/spec': spec,
      'app-utils/demo/autobuild/defines': 'PKGNAME=demo\nPKGSEC=utils\nPKGDES="demo"\n',
    });
    const bumped = { ...source, sha256: 'b'.repeat(64) };
    const dest = path.join(root, 'bumped');
    await writeOverlaidBundle({
      treeDir: root,
      pkg: pkg({ identical: false, ver: '1.2' }),
      overlay,
      source: bumped,
      arch: 'amd64',
      destDir: dest,
    });
    const bundle = await loadBundle(dest, 'amd64');
    expect(bundle.spec.version).toBe('1.2');
    expect(bundle.sources[0]?.checksum?.hex).toBe('b'.repeat(64));
  });

  it('sets variables in the defines the overlay names, and refuses a folder the bundle lacks', async () => {
    const root = await tree({
      'app-utils/demo/spec': spec,
      'app-utils/demo/01-demo/defines': 'PKGNAME=demo\nPKGSEC=utils\nPKGDES="demo"\n',
      'app-utils/demo/02-demo-extra/defines': 'PKGNAME=demo-extra\nPKGSEC=utils\nPKGDES="extra"\nMESON_AFTER="-Da=1"\n',
    });
    const set = new Map([['02-demo-extra', new Map([['MESON_AFTER', '-Da=1 -Db=0']])]]);
    const dest = path.join(root, 'set');
    await writeOverlaidBundle({ treeDir: root, pkg: pkg({ set }), overlay, source, arch: 'amd64', destDir: dest });
    const bundle = await loadBundle(dest, 'amd64');
    expect(bundle.packages.map((p) => p.defines.vars.get('MESON_AFTER'))).toEqual([undefined, '-Da=1 -Db=0']);
    const wrong = new Map([['03-nope', new Map([['X', '1']])]]);
    await expect(
      writeOverlaidBundle({
        treeDir: root,
        pkg: pkg({ set: wrong }),
        overlay,
        source,
        arch: 'amd64',
        destDir: path.join(root, 'w'),
      }),
    ).rejects.toThrow(/sets variables in 03-nope\/defines, which the bundle lacks/);
  });

  it('refuses a bumped version claimed identical, and arch_all names outside debs', async () => {
    const file = path.join(await tree({}), 'overlay.toml');
    const entry = [
      '[[package]]',
      'path = "a/b"',
      'kind = "split"',
      'suite = "trixie"',
      'source = "b"',
      'version = "1-1"',
      'orig = "b.tar.gz"',
      'check = "true"',
      '',
    ].join('\n');
    await writeFile(file, `${entry}identical = true\nver = "2"\n`);
    await expect(loadOverlay(file)).rejects.toThrow(
      /package\[0\]\.ver: a bumped version cannot have identical sources/,
    );
    await writeFile(file, `${entry}identical = false\ndebs = ["b"]\narch_all = ["c"]\n`);
    await expect(loadOverlay(file)).rejects.toThrow(/package\[0\]\.arch_all: c is not in debs/);
  });

  it('refuses arch overrides of dependency lists rather than leaving AOSC names behind', async () => {
    const root = await tree({
      'app-utils/demo/spec': spec,
      'app-utils/demo/autobuild/defines':
        'PKGNAME=demo\nPKGSEC=utils\nPKGDES="demo"\nPKGDEP="glibc"\nPKGDEP__AMD64="glibc ncurses"\n',
    });
    await expect(
      writeOverlaidBundle({
        treeDir: root,
        pkg: pkg(),
        overlay,
        source,
        arch: 'amd64',
        destDir: path.join(root, 'out'),
      }),
    ).rejects.toThrow(/does not rewrite arch overrides such as PKGDEP__AMD64/);
  });
});
