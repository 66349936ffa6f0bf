import { describe, expect, it } from 'vitest';
import { compilePattern, escapePattern, matchPattern, PatternError, PatternMatcher } from './extglob.ts';

describe('matchPattern', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[a-c]x', 'bx', true],
    ['[!a-c]x', 'bx', false],
    ['[^a-c]x', 'dx', true],
    ['[]]', ']', true],
    ['[[:digit:]]*', '9lives', true],
    ['[[:alpha:]]', '1', false],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[abc', '[abc', true],
    ['!(amd64|arm64)', 'amd64', false],
    ['!(amd64|arm64)', 'riscv64', true],
    ['!(amd64|arm64)', 'amd6', true],
    ['@(amd64|arm64)', 'arm64', true],
    ['@(amd64|arm64)', 'arm', false],
    ['?(x)y', 'y', true],
    ['?(x)y', 'xy', true],
    ['?(x)y', 'xxy', false],
    ['*(ab)c', 'ababc', true],
    ['*(ab)c', 'c', true],
    ['+(ab)c', 'c', false],
    ['+(ab|cd)e', 'abcdabe', true],
    ['loongarch64*', 'loongarch64_nosimd', true],
    ['!(*64)', 'i486', true],
    ['!(*64)', 'amd64', false],
    ['a!(b)c', 'abc', false],
    ['a!(b)c', 'axc', true],
    ['a!(b)c', 'ac', true],
    ['@(a|b', '@(a|b', true],
  ])('%s against %s is %s', (pattern, subject, expected) => {
    expect(matchPattern(pattern, subject)).toBe(expected);
  });

  it('agrees with bash [[ == ]] with extglob on a sample', async () => {
    const { execFileSync } = await import('node:child_process');
    const cases: Array<[string, string]> = [
      ['!(mainline|retro)', 'mainline'],
      ['*(a|b)c', 'abbac'],
      ['+([0-9]).+([0-9])', '24.2'],
      ['[[:upper:]]*', 'Mesa'],
      ['!(a*)', 'abc'],
      ['@(x|y)*(z)', 'yzzz'],
    ];
    // Test-authored patterns only; never bundle content.
    const script = cases.map(([p, s]) => `[[ ${JSON.stringify(s)} == ${p} ]] && echo 1 || echo 0`).join('\n');
    const bash = execFileSync('bash', ['-O', 'extglob', '-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(cases.map(([p, s]) => (matchPattern(p, s) ? '1' : '0'))).toEqual(bash);
  });

  it('escapePattern makes every special character literal', () => {
    const text = 'a*b?c[d]e!(f)|g@+';
    expect(matchPattern(escapePattern(text), text)).toBe(true);
    expect(matchPattern(escapePattern('a*'), 'abc')).toBe(false);
  });

  it('reports every end position, for prefix and suffix stripping', () => {
    const p = compilePattern('*.');
    expect([...new PatternMatcher('1.2.3').ends(p.nodes, 0)].sort()).toEqual([2, 4]);
  });

  it('refuses patterns nested too deeply and matches that cost too much', () => {
    expect(() => compilePattern(`${'@('.repeat(40)}a${')'.repeat(40)}`)).toThrow(PatternError);
    expect(() => new PatternMatcher('x'.repeat(3000)).ends(compilePattern('*(*(*(x)))').nodes, 0)).toThrow(
      PatternError,
    );
  });

  it('matches many stars in polynomial work, not by backtracking', () => {
    // Counted in work, not time: a budget of nodes x (length + 1)^2 set insertions is what the memoised
    // matcher may spend; backtracking would try some C(200, 7) ~ 2e12 splits and run out of it (PatternError).
    const subject = 'a'.repeat(200);
    const pattern = compilePattern('*a*a*a*a*a*a*a*b');
    const budget = pattern.nodes.length * (subject.length + 1) ** 2;
    expect([...new PatternMatcher(subject, budget).ends(pattern.nodes, 0)]).not.toContain(subject.length);
    expect(matchPattern(pattern, subject)).toBe(false);
  });
});
