import { describe, expect, it } from 'vitest';
import { parseSpec } from './spec.ts';
import { errorOf, fixture } from '../test-support/test-helpers.ts';

const SHA = 'c02bb72cea290f78b11895a0c95c7c92394f180d7ff66d4a762ec6950a58addf';

describe('parseSpec on tree specs', () => {
  it('app-utils/tree: git source with commit=tags/$VER', () => {
    const spec = parseSpec(fixture('app-utils/tree/spec'), { arch: 'amd64' });
    expect(spec).toMatchObject({ file: 'spec', version: '2.1.1', release: '1', dummySrc: false, envreq: {} });
    expect(spec.epoch).toBeUndefined();
    expect(spec.sources).toEqual([
      {
        type: 'git',
        url: 'https://gitlab.com/OldManProgrammer/unix-tree',
        options: { commit: 'tags/2.1.1' },
        checksum: null,
        raw: 'git::commit=tags/2.1.1::https://gitlab.com/OldManProgrammer/unix-tree',
      },
    ]);
  });

  it('runtime-display/mesa: two sources over continued lines, options joined by ;, SUBDIR', () => {
    const spec = parseSpec(fixture('runtime-display/mesa/spec'), { arch: 'amd64' });
    expect(spec.version).toBe('24.2.0+dxheaders1.614.0');
    expect(spec.subdir).toBe('mesa-24.2.0');
    expect(spec.sources.map((s) => [s.type, s.url, s.options, s.checksum])).toEqual([
      ['tbl', 'https://archive.mesa3d.org/mesa-24.2.0.tar.xz', {}, { algo: 'sha256', hex: SHA }],
      ['git', 'https://github.com/microsoft/DirectX-Headers', { commit: 'tags/v1.614.0', rename: 'dxheaders' }, null],
    ]);
  });

  it('lang-python/certifi: REL defaults to 0', () => {
    expect(parseSpec(fixture('lang-python/certifi/spec'), { arch: 'amd64' }).release).toBe('0');
  });

  it('app-editors/vscode: SRCS__AMD64 / SRCS__ARM64 chosen per arch', () => {
    const amd64 = parseSpec(fixture('app-editors/vscode/spec'), { arch: 'amd64' });
    const arm64 = parseSpec(fixture('app-editors/vscode/spec'), { arch: 'arm64' });
    expect(amd64.sources).toMatchObject([
      { type: 'file', url: 'https://update.code.visualstudio.com/1.103.1/linux-deb-x64/stable' },
    ]);
    expect(amd64.sources[0]?.checksum?.hex).toBe('0a2f1a6396600747e1bfb3ad7f57f30962bd8e0d8558cc79af4c64d4e6d4c61d');
    expect(arm64.sources[0]?.url).toContain('linux-deb-arm64');
    expect(errorOf(() => parseSpec(fixture('app-editors/vscode/spec'), { arch: 'riscv64' }))).toEqual({
      code: 'BUNDLE_INVALID',
      message: 'spec: SRCS is missing (no SRCS or SRCS__RISCV64); set DUMMYSRC=1 if the package has no source',
    });
    expect(
      parseSpec(fixture('app-editors/vscode/spec'), { arch: 'riscv64', allowMissingSources: true }).sources,
    ).toEqual([]);
  });
});

describe('parseSpec: sources', () => {
  const spec = (srcs: string, sums: string): ReturnType<typeof parseSpec> =>
    parseSpec(`VER=1.0\nSRCS="${srcs}"\nCHKSUMS="${sums}"\n`, { arch: 'amd64' });

  it('takes a URL without a type as a tarball, or as git when it looks like a repository', () => {
    expect(
      spec('https://x.org/a-1.0.tar.gz https://github.com/a/b.git', `sha256::${SHA} SKIP`).sources.map((s) => s.type),
    ).toEqual(['tbl', 'git']);
  });

  it('reads every option acbs knows, and pypi', () => {
    const s = spec(
      'git::branch=main;submodule=true;copy-repo=true::https://g/x hg::commit=abc::https://h/x svn::https://s/x bzr::https://b/x fossil::https://f/x pypi::version=2.31.0::requests tarball::use-url-name=true::https://t/y.tar',
      `SKIP SKIP SKIP SKIP SKIP sha256::${SHA} sha256::${SHA}`,
    ).sources;
    expect(s.map((x) => x.type)).toEqual(['git', 'hg', 'svn', 'bzr', 'fossil', 'pypi', 'tbl']);
    expect(s[0]?.options).toEqual({ branch: 'main', submodule: 'true', copyRepo: true });
    expect(s[5]).toMatchObject({ url: 'requests', options: { version: '2.31.0' } });
    expect(s[6]?.options).toEqual({ useUrlName: true });
  });

  it('uses SRCS when SRCS__<ARCH> is empty (acbs reads it with `or`)', () => {
    const s = parseSpec(`VER=1\nSRCS="https://a/b.tar.gz"\nSRCS__AMD64=""\nCHKSUMS="SKIP"\n`, { arch: 'amd64' });
    expect(s.sources[0]?.url).toBe('https://a/b.tar.gz');
  });

  it('accepts the legacy keys', () => {
    expect(
      parseSpec(`VER=1\nSRCTBL="https://a/b-$VER.tar.gz"\nCHKSUM="sha256::${SHA}"\n`, { arch: 'amd64' }).sources,
    ).toMatchObject([{ type: 'tbl', url: 'https://a/b-1.tar.gz', checksum: { algo: 'sha256' } }]);
    expect(
      parseSpec('VER=1\nGITSRC="https://g/x"\nGITCO="v1"\nGITBRCH=stable\n', { arch: 'amd64' }).sources,
    ).toMatchObject([{ type: 'git', url: 'https://g/x', options: { commit: 'v1', branch: 'stable' }, checksum: null }]);
  });

  it('DUMMYSRC=1 means no source at all', () => {
    const s = parseSpec('VER=1\nDUMMYSRC=1\n', { arch: 'amd64' });
    expect(s).toMatchObject({ dummySrc: true, sources: [] });
  });

  it('reads ENVREQ, with ENVREQ__<ARCH> first', () => {
    const text = 'VER=1\nDUMMYSRC=1\nENVREQ="core=8 total_mem=16"\nENVREQ__ARM64="core=4"\n';
    expect(parseSpec(text, { arch: 'amd64' }).envreq).toEqual({ core: 8, totalMemGiB: 16 });
    expect(parseSpec(text, { arch: 'arm64' }).envreq).toEqual({ core: 4 });
  });
});

describe('parseSpec: errors name file, line and key', () => {
  it.each([
    ['REL=1\nDUMMYSRC=1\n', 'BUNDLE_INVALID', 'spec: VER is required'],
    ['VER="1 0"\n', 'BUNDLE_INVALID', 'spec:1: VER: "1 0" is not a valid VER (letters, digits and . + ~ _ -)'],
    [
      'VER=1\nREL=1_2\n',
      'BUNDLE_INVALID',
      'spec:2: REL: "1_2" is not a valid REL (letters, digits and . + ~, as a dpkg revision)',
    ],
    ['VER=1\nEPOCH=one\n', 'BUNDLE_INVALID', 'spec:2: EPOCH: "one" is not a valid EPOCH (a whole number)'],
    [
      'VER=1\nDUMMYSRC=maybe\n',
      'BUNDLE_INVALID',
      'spec:2: DUMMYSRC: expected a boolean (1/0, yes/no, true/false), got "maybe"',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS: CHKSUMS is missing; give one checksum (or SKIP for VCS sources) per source',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz \\\n  git::https://g/x"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:4: CHKSUMS: CHKSUMS has 1 entry but SRCS (spec:2: SRCS) has 2; give one checksum (or SKIP) per source',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz"\nCHKSUMS="sha256::abc"\n',
      'BUNDLE_INVALID',
      'spec:3: CHKSUMS (checksum 1): sha256 checksum must be 64 hex digits, got "abc"',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz"\nCHKSUMS="crc32::abcd"\n',
      'BUNDLE_INVALID',
      'spec:3: CHKSUMS (checksum 1): unknown checksum algorithm "crc32" ' +
        '(known: md5, sha1, sha224, sha256, sha384, sha512, blake2b, blake2s, sha3-256, sha3-512)',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz"\nCHKSUMS=""\n',
      'BUNDLE_INVALID',
      'spec:3: CHKSUMS (checksum 1): CHKSUMS is empty, but a tbl source needs a checksum ' +
        '(SKIP is only for VCS sources)',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz"\nCHKSUMS="sha256::SKIP"\n',
      'BUNDLE_INVALID',
      'spec:3: CHKSUMS (checksum 1): sha256 checksum must be 64 hex digits, got "SKIP"',
    ],
    [
      'VER=1\nSRCS="https://a/b.tar.gz"\nCHKSUMS="deadbeef"\n',
      'BUNDLE_INVALID',
      'spec:3: CHKSUMS (checksum 1): malformed checksum "deadbeef": expected algo::hex or SKIP',
    ],
    [
      'VER=1\nSRCS="cvs::https://c/x"\nCHKSUMS="SKIP"\n',
      'SOURCE_UNSUPPORTED',
      'spec:2: SRCS (source 1): unsupported source type "cvs" (supported: tbl, git, hg, svn, bzr, fossil, file, pypi)',
    ],
    [
      'VER=1\nSRCS="git::depth=1::https://g/x"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS (source 1): unknown source option "depth" ' +
        '(known: commit, branch, rename, submodule, copy-repo, use-url-name, version)',
    ],
    [
      'VER=1\nSRCS="git::submodule=yes::https://g/x"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS (source 1): invalid submodule option "yes": expected true, false or recursive',
    ],
    [
      'VER=1\nSRCS="pypi::requests"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS (source 1): pypi source "pypi::requests" needs version= (pypi::version=$VER::name)',
    ],
    [
      'VER=1\nSRCS="tbl::rename=a;use-url-name=true::https://a/b"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS (source 1): use-url-name cannot be combined with rename',
    ],
    [
      'VER=1\nSRCS="tbl::example.org/x.tar"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS (source 1): source URL "example.org/x.tar" has no scheme',
    ],
    [
      'VER=1\nSRCS="https://a/$(date).tar"\nCHKSUMS="SKIP"\n',
      'BUNDLE_INVALID',
      'spec:2: SRCS: command substitution $(...) cannot be evaluated statically',
    ],
    [
      'VER=1\nDUMMYSRC=1\nSUBDIR=../up\n',
      'BUNDLE_INVALID',
      'spec:3: SUBDIR: must be a relative path inside the sources, got "../up"',
    ],
    [
      'VER=1\nDUMMYSRC=1\nENVREQ="cores=4"\n',
      'BUNDLE_INVALID',
      'spec:3: ENVREQ: unknown key "cores" (did you mean core?); known keys: core, total_mem, total_mem_per_core, disk',
    ],
  ])('%j', (text, code, message) => {
    expect(errorOf(() => parseSpec(text, { arch: 'amd64' }))).toEqual({ code, message });
  });
});
