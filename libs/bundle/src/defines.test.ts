import { describe, expect, it } from 'vitest';
import { parseDefines } from './defines.ts';
import { errorOf, fixture } from '../test-support/test-helpers.ts';

const names = (deps: Array<{ name: string }>): string[] => deps.map((d) => d.name);

describe('parseDefines on tree files', () => {
  it('app-utils/tree', () => {
    const d = parseDefines(fixture('app-utils/tree/autobuild/defines'), { file: 'autobuild/defines', arch: 'amd64' });
    expect(d).toMatchObject({
      name: 'tree',
      section: 'utils',
      description: 'Displays an indented directory tree, in color',
      noarch: false,
      failArch: '!(mainline|retro)',
    });
    expect(d.deps.PKGDEP).toEqual([{ name: 'glibc', raw: 'glibc' }]);
    expect(d.deps.BUILDDEP).toEqual([]);
    expect(d.allowArch).toBeUndefined();
    expect(d.abType).toBeUndefined();
  });

  it('app-admin/appstream 02-appstream-qt: versioned PKGBREAK, ABTYPE=self', () => {
    const d = parseDefines(fixture('app-admin/appstream/02-appstream-qt/defines'), {
      file: '02-appstream-qt/defines',
      arch: 'amd64',
    });
    expect(d.abType).toBe('self');
    expect(d.deps.PKGBREAK).toEqual([
      { name: 'plasma-workspace', constraint: { op: '<=', version: '5.27.11-2' }, raw: 'plasma-workspace<=5.27.11-2' },
      { name: 'discover', constraint: { op: '<=', version: '5.27.11-2' }, raw: 'discover<=5.27.11-2' },
    ]);
  });

  it('app-admin/appstream 01-appstream: BUILDDEP over a continued line', () => {
    const d = parseDefines(fixture('app-admin/appstream/01-appstream/defines'), {
      file: '01-appstream/defines',
      arch: 'amd64',
    });
    expect(names(d.deps.BUILDDEP)).toEqual([
      'docbook-xsl',
      'gobject-introspection',
      'gperf',
      'gtk-doc',
      'intltool',
      'qt-5',
      'xmlto',
      'vala',
    ]);
  });

  it('lang-python/certifi: ABHOST=noarch', () => {
    const d = parseDefines(fixture('lang-python/certifi/autobuild/defines'), {
      file: 'autobuild/defines',
      arch: 'amd64',
    });
    expect(d).toMatchObject({ abHost: 'noarch', noarch: true });
  });

  it('app-editors/vscode: PKGCONFL, PKGPROV, FAIL_ARCH', () => {
    const d = parseDefines(fixture('app-editors/vscode/autobuild/defines'), {
      file: 'autobuild/defines',
      arch: 'amd64',
    });
    expect(names(d.deps.PKGCONFL)).toEqual(['code']);
    expect(names(d.deps.PKGPROV)).toEqual(['code']);
    expect(d.failArch).toBe('!(amd64|arm64)');
  });
});

describe('parseDefines: __ARCH overrides (runtime-display/mesa)', () => {
  const mesa = fixture('runtime-display/mesa/autobuild/defines');
  const read = (arch: string): ReturnType<typeof parseDefines> =>
    parseDefines(mesa, { file: 'autobuild/defines', arch });
  const retroDeps = ['x11-lib', 'elfutils', 'libdrm', 'libglvnd', 'libva', 'llvm-runtime', 'expat', 'systemd'];

  it('amd64 reads the plain PKGDEP and BUILDDEP', () => {
    const d = read('amd64');
    expect(names(d.deps.PKGDEP)).toContain('spirv-llvm-translator');
    expect(names(d.deps.BUILDDEP)).toContain('valgrind');
    expect(d.epoch).toBe('1');
    expect(d.deps.PKGPROV).toEqual([{ name: 'libglx-mesa0', raw: 'libglx-mesa0_spiral' }]);
  });

  it('an exact arch override wins (loongarch64 drops valgrind via ${BUILDDEP/valgrind/})', () => {
    expect(names(read('loongarch64').deps.BUILDDEP)).not.toContain('valgrind');
    expect(names(read('loongarch64_nosimd').deps.BUILDDEP)).not.toContain('valgrind');
    expect(names(read('i486').deps.BUILDDEP)).toEqual(['x11-proto', 'llvm', 'mako', 'mesa', 'imake']);
  });

  it('a group override applies to members of the group without their own (alpha, ia64 are retro)', () => {
    expect(names(read('alpha').deps.PKGDEP)).toEqual(retroDeps);
    expect(names(read('ia64').deps.BUILDDEP)).toEqual(['x11-proto', 'llvm', 'mako']);
    expect(names(read('armv7hf').deps.PKGDEP)).toEqual(retroDeps);
  });

  it('arrays resolve the same way', () => {
    expect(read('amd64').vars.list('MESON_AFTER__AMD64')).toContain('-Dsse2=true');
  });

  it('two applicable group overrides are ambiguous (autobuild4 refuses to proceed)', () => {
    const text = 'PKGNAME=x\nPKGSEC=utils\nPKGDES="X"\nPKGDEP__MAINLINE="a"\nPKGDEP__64BIT="b"\n';
    expect(errorOf(() => parseDefines(text, { file: 'autobuild/defines', arch: 'amd64' }))).toEqual({
      code: 'BUNDLE_INVALID',
      message:
        'autobuild/defines:4: PKGDEP__MAINLINE: ambiguous architecture group override: ' +
        'PKGDEP__64BIT and PKGDEP__MAINLINE both apply to amd64; add PKGDEP__AMD64 to choose',
    });
    const withExact = `${text}PKGDEP__AMD64="c"\n`;
    expect(names(parseDefines(withExact, { file: 'autobuild/defines', arch: 'amd64' }).deps.PKGDEP)).toEqual(['c']);
  });

  it('an empty override still wins', () => {
    const text = 'PKGNAME=x\nPKGSEC=utils\nPKGDES="X"\nPKGDEP="a b"\nPKGDEP__ARM64=""\n';
    expect(parseDefines(text, { file: 'autobuild/defines', arch: 'arm64' }).deps.PKGDEP).toEqual([]);
  });
});

describe('parseDefines: other keys', () => {
  const base = 'PKGNAME=foo\nPKGSEC=utils\nPKGDES="Foo"\n';

  it('reads the seed (PKGVER, ARCH) and every dependency list', () => {
    const d = parseDefines(
      `${base}PKGDEP="bar>=$PKGVER baz_ @AB_AUTO_SO_DEPS@"\nPKGRECOM=r\nPKGSUG=s\nPKGREP=p\nBUILDDEP="cc-$ARCH"\n`,
      {
        file: 'autobuild/defines',
        arch: 'arm64',
        seed: { PKGVER: '1.2' },
      },
    );
    expect(d.deps.PKGDEP).toEqual([
      { name: 'bar', constraint: { op: '>=', version: '1.2' }, raw: 'bar>=1.2' },
      { name: 'baz', raw: 'baz_' },
    ]);
    expect(names(d.deps.BUILDDEP)).toEqual(['cc-arm64']);
    expect([names(d.deps.PKGRECOM), names(d.deps.PKGSUG), names(d.deps.PKGREP)]).toEqual([['r'], ['s'], ['p']]);
  });

  it('reads ALLOW_ARCH and ENVREQ', () => {
    const d = parseDefines(`${base}ALLOW_ARCH="@(amd64|arm64)"\nENVREQ="total_mem_per_core=2 disk=50"\n`, {
      file: 'autobuild/defines',
      arch: 'amd64',
    });
    expect(d.allowArch).toBe('@(amd64|arm64)');
    expect(d.envreq).toEqual({ totalMemPerCoreGiB: 2, diskGB: 50 });
  });

  it.each([
    ['PKGSEC=utils\nPKGDES="Foo"\n', 'autobuild/defines: PKGNAME is required'],
    ['PKGNAME=foo\nPKGDES="Foo"\n', 'autobuild/defines: PKGSEC is required'],
    ['PKGNAME=foo\nPKGSEC=utils\n', 'autobuild/defines: PKGDES is required'],
    [
      'PKGNAME=Foo_Bar\nPKGSEC=utils\nPKGDES=x\n',
      'autobuild/defines:1: PKGNAME: "Foo_Bar" is not a valid package name (lower-case letters, digits, + . -)',
    ],
    ['PKGNAME=foo\nPKGSEC=utils\nPKGDES=""\n', 'autobuild/defines:3: PKGDES: must not be empty'],
    [
      `${base}FAIL_ARCH="!(amd64)"\nALLOW_ARCH="arm64"\n`,
      'autobuild/defines:5: ALLOW_ARCH: FAIL_ARCH (line 4) and ALLOW_ARCH cannot both be set',
    ],
    [`${base}\nPKGDEP="ok Bad_Name"\n`, 'autobuild/defines:5: PKGDEP: "Bad_Name" is not a valid package name'],
    [
      `${base}PKGDEP="foo>1.0"\n`,
      'autobuild/defines:4: PKGDEP: "foo>1.0" is not a valid package name ' +
        '(versions are written name>=1.2, name<=1.2 or name==1.2)',
    ],
    [
      `${base}PKGBREAK="foo<=1 2"\nPKGDEP="x==(1)"\n`,
      'autobuild/defines:5: PKGDEP: "x==(1)" has an invalid version "(1)"',
    ],
    [
      `${base}PKGDEP="glibc $(pkg-config --libs x)"\n`,
      'autobuild/defines:4: PKGDEP: command substitution $(...) cannot be evaluated statically',
    ],
    [`${base}PKGEPOCH=x\n`, 'autobuild/defines:4: PKGEPOCH: "x" is not a whole number'],
    [`${base}ENVREQ="core=two"\n`, 'autobuild/defines:4: ENVREQ: core must be a positive number, got "two"'],
    [
      `${base}FAIL_ARCH="${'!('.repeat(40)}x${')'.repeat(40)}"\n`,
      'autobuild/defines:4: FAIL_ARCH: pattern nests extended groups more than 32 deep',
    ],
  ])('%j', (text, message) => {
    expect(errorOf(() => parseDefines(text, { file: 'autobuild/defines', arch: 'amd64' }))).toEqual({
      code: 'BUNDLE_INVALID',
      message,
    });
  });

  it('an unevaluable value that is never read does not matter', () => {
    const d = parseDefines(`${base}MAKE_AFTER="-j$(nproc)"\nCMAKE_AFTER="-DX=$SRCDIR/y"\n`, {
      file: 'autobuild/defines',
      arch: 'amd64',
    });
    expect(d.name).toBe('foo');
  });
});
