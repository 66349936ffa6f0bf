import { ShellSyntaxError, type Part, type Word, type WordContext } from './shell-ast.ts';
import { parseBracedExpansion } from './shell-param.ts';

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const MAX_NESTING = 64;

/** A cursor over one file's text that reads shell words. */
export class ShellScanner {
  pos = 0;
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  /** 1-based line of a position (default: the cursor). */
  lineAt(pos = this.pos): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(message: string, pos = this.pos): never {
    throw new ShellSyntaxError(this.lineAt(pos), message);
  }

  readName(): string | undefined {
    if (!NAME_START.test(this.peek() ?? '')) return undefined;
    const start = this.pos;
    while (NAME_CHAR.test(this.peek() ?? '')) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private depth = 0;

  /** Reads one word in the given context; may return an empty word. */
  parseWord(ctx: WordContext): Word {
    if (this.depth >= MAX_NESTING) this.fail(`expansions nest more than ${MAX_NESTING} deep`);
    this.depth++;
    try {
      return this.readWordParts(ctx);
    } finally {
      this.depth--;
    }
  }

  private readWordParts(ctx: WordContext): Word {
    const parts: Word = [];
    const wordStart = this.pos;
    while (!this.atEnd()) {
      const c = this.peek() as string;
      if (ctx.stops.includes(c)) {
        if (c === '(' && this.pos > wordStart && '?*+@!'.includes(this.text[this.pos - 1] as string)) {
          push(parts, { kind: 'text', text: this.readExtglobGroup(), quoted: false });
          continue;
        }
        break;
      }
      this.parseUnquotedChar(c, parts, ctx, this.pos === wordStart);
    }
    return parts;
  }

  private parseUnquotedChar(c: string, parts: Word, ctx: WordContext, atStart: boolean): void {
    if (c === '\\') {
      const next = this.peek(1);
      this.pos += next === undefined ? 1 : 2;
      if (next !== '\n') push(parts, { kind: 'text', text: next ?? '\\', quoted: next !== undefined });
    } else if (c === "'") {
      push(parts, { kind: 'text', text: this.readSingleQuoted(), quoted: true });
    } else if (c === '"') {
      for (const part of this.readDoubleQuoted()) push(parts, part);
    } else if (c === '$') {
      push(parts, this.readDollar(false));
    } else if (c === '`') {
      parts.push(this.readBackticks());
    } else if (
      c === '~' &&
      atStart &&
      !ctx.blanksLiteral &&
      /^(?:[/:\s;]|$|[A-Za-z_])/.test(this.text.slice(this.pos + 1, this.pos + 2))
    ) {
      this.pos++;
      parts.push({ kind: 'unsupported', reason: 'tilde expansion ~ cannot be evaluated statically' });
    } else {
      this.pos++;
      push(parts, { kind: 'text', text: c, quoted: false });
    }
  }

  /** `!(a|b)` and friends in an unquoted word: kept verbatim as pattern text. */
  private readExtglobGroup(): string {
    const start = this.pos;
    let depth = 0;
    while (!this.atEnd()) {
      const c = this.peek() as string;
      if (c === '\\') this.pos++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        this.pos++;
        return this.text.slice(start, this.pos);
      } else if (c === '\n') break;
      this.pos++;
    }
    return this.fail('unterminated extended pattern (...)', start);
  }

  readSingleQuoted(): string {
    const start = this.pos;
    const end = this.text.indexOf("'", start + 1);
    if (end < 0) this.fail('unterminated single quote', start);
    this.pos = end + 1;
    return this.text.slice(start + 1, end);
  }

  readDoubleQuoted(): Part[] {
    const start = this.pos;
    const parts: Part[] = [];
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('unterminated double quote', start);
      if (c === '"') break;
      if (c === '\\') {
        const next = this.peek(1);
        if (next === '\n') this.pos += 2;
        else if (next !== undefined && '$`"\\'.includes(next)) {
          push(parts, { kind: 'text', text: next, quoted: true });
          this.pos += 2;
        } else {
          push(parts, { kind: 'text', text: '\\', quoted: true });
          this.pos++;
        }
      } else if (c === '$') push(parts, this.readDollar(true));
      else if (c === '`') parts.push(this.readBackticks());
      else {
        push(parts, { kind: 'text', text: c, quoted: true });
        this.pos++;
      }
    }
    this.pos++;
    return parts;
  }

  private readDollar(quoted: boolean): Part {
    const start = this.pos;
    const next = this.peek(1);
    if (next === '(' && this.peek(2) === '(') {
      this.pos += 3;
      this.skipBalanced('(', ')', start);
      if (this.peek() === ')') this.pos++;
      else this.skipBalanced('(', ')', start); // `$( (cmd) )`: a subshell, not arithmetic
      return { kind: 'unsupported', reason: 'arithmetic expansion $((...)) cannot be evaluated statically' };
    }
    if (next === '(') {
      this.pos += 2;
      this.skipBalanced('(', ')', start);
      return { kind: 'unsupported', reason: 'command substitution $(...) cannot be evaluated statically' };
    }
    if (next === '[') {
      this.pos += 2;
      this.skipBalanced('[', ']', start);
      return { kind: 'unsupported', reason: 'arithmetic expansion $[...] cannot be evaluated statically' };
    }
    if (next === '{') return parseBracedExpansion(this, quoted);
    if (next === "'") {
      this.pos++;
      this.skipAnsiC(start);
      return { kind: 'unsupported', reason: "ANSI-C quoting $'...' cannot be evaluated statically" };
    }
    if (next === '"' && !quoted) {
      this.pos++;
      this.readDoubleQuoted();
      return { kind: 'unsupported', reason: 'locale translation $"..." cannot be evaluated statically' };
    }
    this.pos++;
    const name = this.readName();
    if (name !== undefined) {
      const param = { name, subscript: undefined, op: { kind: 'plain' as const }, text: `$${name}` };
      return { kind: 'param', param, quoted };
    }
    if (next !== undefined && /[0-9@*#?$!-]/.test(next)) {
      this.pos++;
      return { kind: 'unsupported', reason: `special parameter $${next} cannot be evaluated statically` };
    }
    return { kind: 'text', text: '$', quoted };
  }

  private readBackticks(): Part {
    const start = this.pos;
    this.pos++;
    while (this.peek() !== '`') {
      if (this.atEnd()) this.fail('unterminated backtick command substitution', start);
      if (this.peek() === '\\') this.pos++;
      this.pos++;
    }
    this.pos++;
    return { kind: 'unsupported', reason: 'command substitution `...` cannot be evaluated statically' };
  }

  private skipAnsiC(start: number): void {
    this.pos++;
    while (this.peek() !== "'") {
      if (this.atEnd()) this.fail("unterminated $'...' quote", start);
      if (this.peek() === '\\') this.pos++;
      this.pos++;
    }
    this.pos++;
  }

  /** Skips to just after the `close` that balances an already consumed `open`. */
  skipBalanced(open: string, close: string, start: number): void {
    let depth = 1;
    while (depth > 0) {
      const c = this.peek();
      if (c === undefined) this.fail(`unterminated ${this.text.slice(start, start + 2)}`, start);
      if (c === '\\') this.pos += 2;
      else if (c === "'") this.readSingleQuoted();
      else if (c === '"') this.readDoubleQuoted();
      else {
        if (c === open) depth++;
        else if (c === close) depth--;
        this.pos++;
      }
    }
  }
}

/** Appends a part, merging adjacent text of the same quoting. */
export function push(parts: Part[], part: Part): void {
  const last = parts.at(-1);
  if (part.kind === 'text' && last?.kind === 'text' && last.quoted === part.quoted) {
    last.text += part.text;
  } else {
    parts.push(part.kind === 'text' ? { ...part } : part);
  }
}
