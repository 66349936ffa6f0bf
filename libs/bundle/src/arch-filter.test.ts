import { describe, expect, it } from 'vitest';
import { allowedArchs, archPatternMatches, type ArchFilterInput } from './arch-filter.ts';
import { ARCH_GROUPS, archGroupsOf, KNOWN_ARCHS } from './arch-groups.ts';
import { parseDefines } from './defines.ts';
import { fixture } from '../test-support/test-helpers.ts';

const FARM = ['amd64', 'arm64', 'loongarch64', 'riscv64', 'i486', 'mips64r6el', 'optenv32'];

function pkg(over: Partial<ArchFilterInput>): ArchFilterInput {
  return { file: 'autobuild/defines', name: 'x', noarch: false, ...over };
}

describe('arch groups', () => {
  it('lists the groups of an arch in ABHOST_GROUP order', () => {
    expect(archGroupsOf('amd64')).toEqual(['64bit', 'mainline', 'mainline_tier1', 'ocaml_native']);
    expect(archGroupsOf('i486')).toEqual(['32bit', 'retro']);
    expect(archGroupsOf('mips64r6el')).toEqual(['64bit']);
  });

  it('only names known architectures', () => {
    for (const members of Object.values(ARCH_GROUPS)) for (const a of members) expect(KNOWN_ARCHS).toContain(a);
  });
});

describe('archPatternMatches', () => {
  it.each([
    ['amd64', 'amd64', true],
    ['amd64', 'arm64', false],
    ['mainline', 'riscv64', true],
    ['@(amd64|arm64)', 'arm64', true],
    ['!(amd64|arm64)', 'amd64', false],
    ['!(amd64|arm64)', 'riscv64', true],
    // !(...) reads as "none of the arch's names": amd64 is in mainline, so it is not excluded
    ['!(mainline|retro)', 'amd64', false],
    ['!(mainline|retro)', 'i486', false],
    ['!(mainline|retro)', 'mips64r6el', true],
    ['!(mainline)', 'optenv32', true],
    ['loongarch64*', 'loongarch64_nosimd', true],
    ['*64', 'i486', false],
    ['+(retro|32bit)', 'm68k', true],
    // acbs's reading of an alternation without an extglob operator: a regex anchored at the start
    ['(loongson3|mips64r6el|ppc64el)', 'mips64r6el', true],
    ['(loongson3|mips64r6el|ppc64el)', 'amd64', false],
    ['loongarch64|loongson3|riscv64', 'riscv64', true],
    ['loongarch64|loongson3|riscv64', 'arm64', false],
    ['((loongson3))', 'loongson3', true],
    ['(ppc64|powerpc)', 'ppc64el', true],
  ])('%s vs %s -> %s', (pattern, arch, expected) => {
    expect(archPatternMatches(pattern, arch)).toBe(expected);
  });
});

describe('allowedArchs', () => {
  it('app-utils/tree: FAIL_ARCH="!(mainline|retro)"', () => {
    const d = parseDefines(fixture('app-utils/tree/autobuild/defines'), { file: 'autobuild/defines', arch: 'amd64' });
    const decision = allowedArchs(d, FARM);
    expect(decision).toEqual({
      kind: 'archs',
      allowed: ['amd64', 'arm64', 'loongarch64', 'riscv64', 'i486'],
      denied: [
        { arch: 'mips64r6el', reason: 'autobuild/defines: FAIL_ARCH="!(mainline|retro)" excludes mips64r6el' },
        { arch: 'optenv32', reason: 'autobuild/defines: FAIL_ARCH="!(mainline|retro)" excludes optenv32' },
      ],
    });
  });

  it('app-editors/vscode: FAIL_ARCH="!(amd64|arm64)"', () => {
    const d = parseDefines(fixture('app-editors/vscode/autobuild/defines'), {
      file: 'autobuild/defines',
      arch: 'amd64',
    });
    const decision = allowedArchs(d, FARM);
    expect(decision.kind === 'archs' && decision.allowed).toEqual(['amd64', 'arm64']);
  });

  it('lang-python/certifi: noarch', () => {
    const d = parseDefines(fixture('lang-python/certifi/autobuild/defines'), {
      file: 'autobuild/defines',
      arch: 'amd64',
    });
    expect(allowedArchs(d, FARM)).toEqual({ kind: 'noarch' });
  });

  it('without FAIL_ARCH/ALLOW_ARCH every arch is allowed (autobuild4 has no default FAIL_ARCH)', () => {
    expect(allowedArchs(pkg({}), FARM)).toEqual({ kind: 'archs', allowed: FARM, denied: [] });
    const assumed = allowedArchs(pkg({}), FARM, { defaultFailArch: '!(mainline)' });
    expect(assumed.kind === 'archs' && assumed.denied[0]).toEqual({
      arch: 'i486',
      reason: 'autobuild/defines: sets no FAIL_ARCH/ALLOW_ARCH, and the assumed FAIL_ARCH="!(mainline)" excludes i486',
    });
  });

  it('FAIL_ARCH="(a|b)" excludes a and b as acbs reads it (app-games/desmume)', () => {
    const decision = allowedArchs(pkg({ failArch: '(loongson3|mips64r6el|arm64)' }), FARM);
    expect(decision.kind === 'archs' && decision.denied.map((d) => d.arch)).toEqual(['arm64', 'mips64r6el']);
  });

  it('ALLOW_ARCH takes archs and groups', () => {
    const d = allowedArchs(pkg({ allowArch: '@(amd64|retro)' }), FARM);
    expect(d).toMatchObject({ kind: 'archs', allowed: ['amd64', 'i486'] });
    expect(d.kind === 'archs' && d.denied[0]?.reason).toBe(
      'autobuild/defines: ALLOW_ARCH="@(amd64|retro)" does not include arm64',
    );
  });

  it('an empty FAIL_ARCH excludes nothing', () => {
    expect(allowedArchs(pkg({ failArch: '' }), FARM)).toMatchObject({ allowed: FARM });
  });

  it('split packages: an arch is allowed when any package allows it; noarch only when all are', () => {
    const a = pkg({ file: '01-a/defines', failArch: '!(amd64)' });
    const b = pkg({ file: '02-b/defines', failArch: '!(arm64)' });
    const c = pkg({ file: '03-c/defines', noarch: true });
    expect(allowedArchs([a, b, c], ['amd64', 'arm64', 'riscv64'])).toEqual({
      kind: 'archs',
      allowed: ['amd64', 'arm64'],
      denied: [
        {
          arch: 'riscv64',
          reason:
            '01-a/defines: FAIL_ARCH="!(amd64)" excludes riscv64; 02-b/defines: FAIL_ARCH="!(arm64)" excludes riscv64',
        },
      ],
    });
    expect(allowedArchs([c, c], FARM)).toEqual({ kind: 'noarch' });
  });

  it('an empty ALLOW_ARCH allows every arch; no package at all allows none', () => {
    expect(allowedArchs(pkg({ allowArch: '', failArch: 'amd64' }), FARM)).toEqual({
      kind: 'archs',
      allowed: FARM,
      denied: [],
    });
    expect(allowedArchs([], ['amd64'])).toEqual({
      kind: 'archs',
      allowed: [],
      denied: [{ arch: 'amd64', reason: '' }],
    });
  });

  it('a pattern it cannot match is a bad bundle naming the file and the key', () => {
    const deep = `${'@('.repeat(40)}amd64${')'.repeat(40)}`;
    for (const key of ['failArch', 'allowArch'] as const) {
      const name = key === 'failArch' ? 'FAIL_ARCH' : 'ALLOW_ARCH';
      expect(() => allowedArchs(pkg({ [key]: deep }), ['amd64'])).toThrow(
        expect.objectContaining({
          code: 'BUNDLE_INVALID',
          message: expect.stringMatching(new RegExp(`^autobuild/defines: ${name}: pattern nests`)),
        }),
      );
    }
  });
});

describe('acbs alternations', () => {
  it.each([
    // Names with other characters, or an extglob operator, are extglob patterns, not regexes.
    ['amd64|arm-64', 'amd64', false],
    ['@(amd64|arm64)x', 'amd64', false],
    ['(amd64', 'amd64', false],
    ['amd64', 'amd64x', false],
    ['(amd|arm)', 'amd64', true],
    ['riscv|amd', 'amd64', true],
    ['x(amd64|arm64)', 'amd64', false],
  ])('%s vs %s -> %s', (pattern, arch, expected) => {
    expect(archPatternMatches(pattern, arch)).toBe(expected);
  });
});
