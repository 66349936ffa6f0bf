import { AoinbError } from '@aoinb/errors';
import { ShellVariables } from './shell-variables.ts';
import { ShellSyntaxError, TOP_WORD, type Assignment, type Word } from './shell-ast.ts';
import type { Binding, Env } from './shell-expand.ts';
import { bindAssignment } from './shell-binding.ts';
import { ShellScanner } from './shell-words.ts';

export { ShellVariables };
import { isBuildTimeName } from './build-time-names.ts';
import { scanBlock, skipSimpleCommand } from './shell-compound.ts';
import { takenBranch } from './shell-if.ts';

/**
 * Static reader for the bash subset of `spec` and `autobuild/defines`: plain,
 * `export`ed and `+=` assignments, quoting, comments, line continuations,
 * simple arrays and the parameter expansions listed in `shell-param.ts`.
 * Nothing is executed. A value that needs bash to compute (command
 * substitution, arithmetic, an unset variable, ...) is recorded with the
 * reason and raises an error only when that variable is read. Function
 * definitions and `alias` are skipped, `if [[ W == P ]]` is evaluated, other
 * blocks are skipped with what they assign refused; other commands fail the
 * whole file.
 */

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\+?=)/;
/** Compound statements stepped over; what they may assign is refused when read. */
const SKIPPED_BLOCKS = new Set(['for', 'while', 'until', 'case', 'select', '{']);
const CONTROL_WORDS = new Set([
  'if',
  'then',
  'elif',
  'else',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  'select',
  'function',
  'time',
  'coproc',
  '{',
  '}',
  '[[',
  '[',
  '!',
  '((',
  '(',
]);

export interface ParseShellOptions {
  /** The file name used in messages, relative to the bundle (`spec`, `autobuild/defines`). */
  file: string;
  /** Variables already set when the file is sourced (e.g. PKGVER for defines). */
  seed?: Record<string, string>;
  /**
   * Why an unset variable must not expand to "" (undefined: it expands to "",
   * as in bash). Default: refuse the names only autobuild4 sets at build time.
   */
  refuse?: (name: string) => string | undefined;
}

/** The default refusal: names whose value only the build host knows (SRCDIR, PKGDIR, CFLAGS, ...). */
export function refuseBuildTimeNames(name: string): string | undefined {
  return isBuildTimeName(name)
    ? `${name} is only set by autobuild4 at build time; its value cannot be known statically`
    : undefined;
}

export function parseShellAssignments(text: string, options: ParseShellOptions): ShellVariables {
  const env: Env = Object.assign(new Map<string, Binding>(), { refuse: options.refuse ?? refuseBuildTimeNames });
  for (const [name, value] of Object.entries(options.seed ?? {})) env.set(name, { kind: 'scalar', value, line: 0 });
  try {
    new StatementReader(text, env, options.file).run();
  } catch (err) {
    if (err instanceof ShellSyntaxError) {
      throw new AoinbError(
        'BUNDLE_INVALID',
        `${options.file}:${err.line}: ${err.key ? `${err.key}: ` : ''}${err.message}`,
      );
    }
    throw err;
  }
  return new ShellVariables(options.file, env);
}

class StatementReader {
  private readonly sc: ShellScanner;

  constructor(
    text: string,
    private readonly env: Env,
    private readonly file: string,
  ) {
    this.sc = new ShellScanner(text.replace(/\r\n/g, '\n'));
  }

  run(): void {
    for (;;) {
      this.skipSeparators();
      if (this.sc.atEnd()) return;
      this.statement();
    }
  }

  private skipBlanks(): void {
    for (;;) {
      const c = this.sc.peek();
      if (c === ' ' || c === '\t') this.sc.pos++;
      else if (c === '\\' && this.sc.peek(1) === '\n') this.sc.pos += 2;
      else return;
    }
  }

  private skipSeparators(): void {
    for (;;) {
      this.skipBlanks();
      const c = this.sc.peek();
      if (c === '\n' || c === ';') this.sc.pos++;
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  private skipComment(): void {
    const nl = this.sc.text.indexOf('\n', this.sc.pos);
    this.sc.pos = nl < 0 ? this.sc.text.length : nl;
  }

  private atStatementEnd(): boolean {
    const c = this.sc.peek();
    return c === undefined || c === '\n' || c === ';' || c === '#';
  }

  private statement(): void {
    if (ASSIGNMENT.test(this.sc.text.slice(this.sc.pos, this.sc.pos + 256))) {
      this.assignments();
      return;
    }
    const word = /^[^\s;]+/.exec(this.sc.text.slice(this.sc.pos))?.[0] ?? '';
    if (word === 'export' || word === 'readonly') {
      this.sc.pos += word.length;
      this.exportStatement(word);
      return;
    }
    if (this.functionDefinition()) return;
    if (word === 'alias') skipSimpleCommand(this.sc);
    else if (word === 'if') this.ifStatement();
    else if (SKIPPED_BLOCKS.has(word)) this.skippedBlock(word, 'is not evaluated statically');
    else this.unsupportedStatement(word);
  }

  /** Runs the statements before `limit` (the body of a taken `if` branch). */
  private runUntil(limit: number): void {
    for (;;) {
      this.skipSeparators();
      if (this.sc.pos >= limit || this.sc.atEnd()) return;
      this.statement();
    }
  }

  /** `NAME() { ... }`: skipped; autobuild4 lets defines override its hook functions. */
  private functionDefinition(): boolean {
    const fn =
      /^(?:function\s+([A-Za-z_][A-Za-z0-9_-]*)\s*(?:\(\s*\))?|([A-Za-z_][A-Za-z0-9_-]*)\s*\(\s*\))[ \t\n]*/.exec(
        this.sc.text.slice(this.sc.pos),
      );
    if (!fn) return false;
    const start = this.sc.pos;
    this.sc.pos += fn[0].length;
    if (this.sc.peek() !== '{')
      this.sc.fail(`function \`${fn[1] ?? fn[2]}()\`: only a { ... } body can be skipped statically`, start);
    scanBlock(this.sc, `${fn[1] ?? fn[2]}()`);
    return true;
  }

  private ifStatement(): void {
    const start = this.sc.pos;
    const scan = scanBlock(this.sc);
    const branch = takenBranch(this.sc, this.env, start, scan);
    if (branch === undefined) {
      this.poison(
        scan.assigned,
        `may be assigned by the \`if\` block at line ${this.sc.lineAt(start)}, ` +
          `whose condition cannot be evaluated statically`,
        start,
      );
    } else if (branch !== null) {
      this.sc.pos = branch.start;
      this.runUntil(branch.end);
    }
    this.sc.pos = scan.end;
  }

  private skippedBlock(word: string, why: string): void {
    const start = this.sc.pos;
    const scan = scanBlock(this.sc);
    this.poison(
      scan.assigned,
      `may be assigned by the \`${word}\` block at line ${this.sc.lineAt(start)}, which ${why}`,
      start,
    );
  }

  private poison(names: string[], reason: string, pos: number): void {
    const line = this.sc.lineAt(pos);
    for (const name of names)
      this.env.set(name, { kind: 'poison', reason, root: `${this.file}:${line}: ${name}: ${reason}`, line });
  }

  /** One or more `NAME=value` on a line; a following command word is an error. */
  private assignments(): void {
    for (;;) {
      bindAssignment(this.env, this.file, this.readAssignment());
      this.skipBlanks();
      if (this.atStatementEnd()) return;
      if (!ASSIGNMENT.test(this.sc.text.slice(this.sc.pos, this.sc.pos + 256))) {
        const word = /^[^\s;]+/.exec(this.sc.text.slice(this.sc.pos))?.[0] ?? '';
        this.sc.fail(`command \`${word}\` cannot be evaluated statically`);
      }
    }
  }

  private exportStatement(keyword: string): void {
    for (;;) {
      this.skipBlanks();
      if (this.atStatementEnd()) return;
      if (ASSIGNMENT.test(this.sc.text.slice(this.sc.pos, this.sc.pos + 256))) {
        bindAssignment(this.env, this.file, this.readAssignment());
        continue;
      }
      const name = this.sc.readName();
      if (name === undefined) this.sc.fail(`\`${keyword}\` with options cannot be evaluated statically`);
    }
  }

  private unsupportedStatement(word: string): never {
    const head = /^(\(\(|\[\[|[^\s;(]+|\()/.exec(word)?.[1] ?? word;
    if (CONTROL_WORDS.has(head)) this.sc.fail(`\`${head}\` statements cannot be evaluated statically`);
    this.sc.fail(`command \`${word}\` cannot be evaluated statically`);
  }

  private readAssignment(): Assignment {
    const m = ASSIGNMENT.exec(this.sc.text.slice(this.sc.pos, this.sc.pos + 256)) as RegExpExecArray;
    const name = m[1] as string;
    const line = this.sc.lineAt();
    this.sc.pos += m[0].length;
    try {
      if (this.sc.peek() === '(')
        return { name, append: m[2] === '+=', line, value: { kind: 'array', words: this.readArray() } };
      const word = this.sc.parseWord(TOP_WORD);
      const next = this.sc.peek();
      if (next !== undefined && '|&<>()'.includes(next))
        this.sc.fail(`unexpected \`${next}\` cannot be evaluated statically`);
      return { name, append: m[2] === '+=', line, value: { kind: 'scalar', word } };
    } catch (err) {
      if (err instanceof ShellSyntaxError && err.key === undefined)
        throw new ShellSyntaxError(err.line, err.message, name);
      throw err;
    }
  }

  private readArray(): Word[] {
    const start = this.sc.pos;
    this.sc.pos++;
    const words: Word[] = [];
    for (;;) {
      this.skipBlanks();
      const c = this.sc.peek();
      if (c === undefined) this.sc.fail('unterminated array (...)', start);
      if (c === ')') {
        this.sc.pos++;
        return words;
      }
      if (c === '\n') this.sc.pos++;
      else if (c === '#') this.skipComment();
      else {
        const before = this.sc.pos;
        words.push(this.sc.parseWord(TOP_WORD));
        if (this.sc.pos === before) this.sc.fail(`unexpected \`${c}\` in array`);
      }
    }
  }
}
