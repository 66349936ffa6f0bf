import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAoinbError } from '@aoinb/errors';
import { parseShellAssignments, refuseBuildTimeNames, type ShellVariables } from './shell-assignments.ts';

function parse(text: string, file = 'spec', seed?: Record<string, string>): ShellVariables {
  return parseShellAssignments(text, { file, seed });
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isAoinbError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

/**
 * The oracle: what bash itself prints for the same (test-authored, trusted)
 * text. Bundle files are never run; these snippets are written here.
 */
function bashValues(text: string, names: string[]): Record<string, string> {
  const script = `shopt -s extglob\n${text}\n${names.map((n) => `printf '%s\\0' "\${${n}[*]}"`).join('\n')}`;
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: {} });
  const values = out.split('\0');
  return Object.fromEntries(names.map((n, i) => [n, values[i] as string]));
}

const SUPPORTED = readFileSync(fileURLToPath(new URL('../fixtures/shell/supported.sh', import.meta.url)), 'utf8');

describe('parseShellAssignments: supported subset agrees with bash', () => {
  const vars = parse(SUPPORTED);
  const names = vars.names();
  const bash = bashValues(SUPPORTED, names);

  it('reads every assignment', () => {
    expect(names.length).toBeGreaterThan(50);
  });

  it.each(Object.keys(bash))('%s', (name) => {
    expect(vars.get(name)).toBe(bash[name]);
  });

  it('keeps arrays as lists', () => {
    expect(vars.list('ARR')).toEqual(['a', 'b c', 'd', '24.2.0', 'e24.2.0', 'g']);
    expect(vars.list('ARR4')).toEqual(['x', 'y', 'q']);
    expect(vars.list('MESON_AFTER__AMD64')).toEqual(['-Db_ndebug=true', '-Dplatforms=x11,wayland', '-Dsse2=true']);
  });

  it('records the line of each assignment', () => {
    expect(vars.line('VER')).toBe(2);
    expect(vars.line('MULTI')).toBe(9);
    expect(vars.where('REL')).toBe('spec:3: REL');
  });
});

const TREE_FORMS = readFileSync(fileURLToPath(new URL('../fixtures/shell/tree-forms.sh', import.meta.url)), 'utf8');

describe('parseShellAssignments: forms of the AOSC tree agree with bash', () => {
  const vars = parse(TREE_FORMS);
  const names = vars.names();
  const bash = bashValues(TREE_FORMS, [...names, 'ARMONLY', 'NEVER', 'ELSE']);

  it('reads the assignments outside functions, and those of the branches taken', () => {
    expect(names).toContain('NESTED');
    expect(names).toContain('ELIF');
    expect(names).not.toContain('ARMONLY');
    expect(names).not.toContain('MAKE_AFTER');
    expect(vars.has('ELSE')).toBe(false);
  });

  it.each(names)('%s', (name) => {
    expect(vars.get(name)).toBe(bash[name]);
  });

  it('keeps unset fields out of arrays as bash does', () => {
    expect(vars.list('LIST')).toEqual(['a', '', 'b']);
  });

  it('refuses what an if block with an unknown condition may assign, and only that', () => {
    const text = 'A=1\nB=2\nif [ -e /etc/x ]; then\n  A+=" more"\n  C=3\nfi\nD=$B\n';
    const v = parse(text, 'autobuild/defines');
    expect(v.get('D')).toBe('2');
    const message =
      'autobuild/defines:3: A: may be assigned by the `if` block at line 3, ' +
      'whose condition cannot be evaluated statically';
    expect(errorOf(() => v.get('A'))).toEqual({ code: 'BUNDLE_INVALID', message });
    expect(errorOf(() => v.get('C')).message).toContain('C: may be assigned by the `if` block at line 3');
  });

  it('refuses what a loop may assign', () => {
    const v = parse('for x in a b; do\n  Y=$x\ndone\nZ=1\n');
    expect(v.get('Z')).toBe('1');
    expect(errorOf(() => v.get('Y')).message).toBe(
      'spec:1: Y: may be assigned by the `for` block at line 1, which is not evaluated statically',
    );
    expect(errorOf(() => v.get('x')).message).toContain('x: may be assigned by the `for` block');
  });

  it('refuses build-time names and other refused names instead of expanding them to ""', () => {
    const v = parseShellAssignments('A="$CFLAGS -O2"\nB=${PKGDIR}/x\nC=$MAJOR\nD=$OTHER/x\n', {
      file: 'autobuild/defines',
      refuse: (n) => (n === 'MAJOR' ? 'MAJOR is spec-only' : refuseBuildTimeNames(n)),
    });
    expect(errorOf(() => v.get('A')).message).toBe(
      'autobuild/defines:1: A: $CFLAGS: CFLAGS is only set by autobuild4 at build time; ' +
        'its value cannot be known statically',
    );
    expect(errorOf(() => v.get('B')).message).toBe(
      'autobuild/defines:2: B: ${PKGDIR}: PKGDIR is only set by autobuild4 at build time; ' +
        'its value cannot be known statically',
    );
    expect(v.get('D')).toBe('/x');
    expect(errorOf(() => v.get('C')).message).toBe('autobuild/defines:3: C: $MAJOR: MAJOR is spec-only');
  });
});

describe('parseShellAssignments: values that need bash', () => {
  const text = [
    'VER=1.0', //                                 1
    'PKGDEP="foo $(cat /etc/passwd)"', //         2
    'A=`uname -m`', //                            3
    'B=$((1+2))', //                              4
    'C="$PKGDEP bar"', //                         5
    'D=$SRCDIR/x', //                             6
    "E=$'a\\nb'", //                              7
    'F=~/x', //                                   8
    'G=${!VER}', //                               9
    'H=${VER:=x}', //                             10
    'I=$1', //                                    11
    'J=( *.patch )', //                           12
    'K=${VER:$((1)):2}', //                       13
    'L=ok', //                                    14
    'M=( {a,b} )', //                             15
  ].join('\n');
  const vars = parse(text, 'autobuild/defines');

  it.each([
    ['PKGDEP', 'autobuild/defines:2: PKGDEP: command substitution $(...) cannot be evaluated statically'],
    ['A', 'autobuild/defines:3: A: command substitution `...` cannot be evaluated statically'],
    ['B', 'autobuild/defines:4: B: arithmetic expansion $((...)) cannot be evaluated statically'],
    [
      'C',
      'autobuild/defines:5: C: uses PKGDEP, which cannot be evaluated statically ' +
        '(autobuild/defines:2: PKGDEP: command substitution $(...) cannot be evaluated statically)',
    ],
    [
      'D',
      'autobuild/defines:6: D: $SRCDIR: SRCDIR is only set by autobuild4 at build time; ' +
        'its value cannot be known statically',
    ],
    ['E', "autobuild/defines:7: E: ANSI-C quoting $'...' cannot be evaluated statically"],
    ['F', 'autobuild/defines:8: F: tilde expansion ~ cannot be evaluated statically'],
    ['G', 'autobuild/defines:9: G: indirect expansion ${!VER} cannot be evaluated statically'],
    ['H', 'autobuild/defines:10: H: expansion ${VER:=x} cannot be evaluated statically'],
    ['I', 'autobuild/defines:11: I: special parameter $1 cannot be evaluated statically'],
    [
      'J',
      'autobuild/defines:12: J: pathname expansion of unquoted "*.patch" in an array cannot be evaluated statically',
    ],
    ['K', 'autobuild/defines:13: K: expansion ${VER:$((1)):2} cannot be evaluated statically'],
    ['M', 'autobuild/defines:15: M: brace expansion of unquoted "{a,b}" in an array cannot be evaluated statically'],
  ])('%s fails only when read', (name, message) => {
    expect(vars.has(name)).toBe(true);
    expect(errorOf(() => vars.get(name))).toEqual({ code: 'BUNDLE_INVALID', message });
  });

  it('other values still read', () => {
    expect(vars.get('L')).toBe('ok');
    expect(vars.get('VER')).toBe('1.0');
  });

  it('uses the seed for variables set before the file', () => {
    const seeded = parse('PKGDEP="foo-$ARCH"', 'autobuild/defines', { ARCH: 'amd64' });
    expect(seeded.get('PKGDEP')).toBe('foo-amd64');
    expect(seeded.names()).toEqual(['PKGDEP']);
  });
});

describe('parseShellAssignments: statements that are not assignments fail the file', () => {
  it.each([
    ['VER=1\nfoo() echo hi\n', 'spec:2: function `foo()`: only a { ... } body can be skipped statically'],
    ['VER=1\nif [[ x == x ]]; then\n  A=1\n', 'spec:2: unterminated `if` block'],
    [
      'F() {\n  cat > f << EOF\n}\nPKGDEP=evil\nEOF\n}\n',
      'spec:2: here-documents (<<) in a block cannot be skipped statically',
    ],
    ['F() {\n  echo "}"; X=1\n', 'spec:1: unterminated `F()` block'],
    ['VER=1\necho hello\n', 'spec:2: command `echo` cannot be evaluated statically'],
    ['VER=1 make\n', 'spec:1: command `make` cannot be evaluated statically'],
    ['[[ -n $X ]] && Y=1\n', 'spec:1: `[[` statements cannot be evaluated statically'],
    ['VER=1\nPKGDEP="foo\n', 'spec:2: PKGDEP: unterminated double quote'],
    ["VER=1\nX='abc\n", 'spec:2: X: unterminated single quote'],
    ['A=1\nB=(a b\n', 'spec:2: B: unterminated array (...)'],
    ['A=foo|bar\n', 'spec:1: A: unexpected `|` cannot be evaluated statically'],
    ['A=${VER\n', 'spec:1: A: bad substitution "${VER\\n"'],
    ['A=${VER%x\n', 'spec:1: A: bad substitution: missing } in "${VER%x\\n"'],
    ['A=$(echo\n', 'spec:1: A: unterminated $('],
    ['export -n A\n', 'spec:1: `export` with options cannot be evaluated statically'],
  ])('%j', (text, message) => {
    expect(errorOf(() => parse(text))).toEqual({ code: 'BUNDLE_INVALID', message });
  });

  it('accepts CRLF line endings and `;` separators', () => {
    const vars = parse('A=1;B=2\r\nC="$A$B"\r\n');
    expect(vars.get('C')).toBe('12');
  });
});

describe('parseShellAssignments: hostile files stay cheap', () => {
  it('refuses values that grow past 1 MiB instead of exhausting memory', () => {
    const text = `A=xxxxxxxxxxxxxxxx\n${'A=$A$A\n'.repeat(40)}B=ok\n`;
    const vars = parse(text);
    expect(vars.get('B')).toBe('ok');
    expect(errorOf(() => vars.get('A')).message).toBe(
      'spec:41: A: uses A, which cannot be evaluated statically (spec:18: A: value is longer than 1048576 characters)',
    );
  });

  it('refuses patterns too costly to match', () => {
    const vars = parse(`E=${'x'.repeat(3000)}\nF=\${E//*(*(*(x)))/y}\n`);
    expect(errorOf(() => vars.get('F')).message).toBe(
      'spec:2: F: ${E//*(*(*(x)))/y}: pattern is too costly to match against a 3000-character value',
    );
  });

  it('refuses expansions nested too deeply (no stack overflow)', () => {
    expect(errorOf(() => parse(`A=${'${X:-'.repeat(5000)}${'}'.repeat(5000)}\n`))).toEqual({
      code: 'BUNDLE_INVALID',
      message: 'spec:1: A: expansions nest more than 64 deep',
    });
  });
});
