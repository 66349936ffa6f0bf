/**
 * A Lua 5.1 tokeniser, enough for the mutation tester (scripts/lua-mutation.ts): it knows
 * comments (`--`, `--[[ ]]`), short and long strings, numbers, names, keywords and operators,
 * so an operator is only ever flipped in code, never inside a comment or a string.
 */

export type LuaTokenKind = 'name' | 'keyword' | 'number' | 'string' | 'op' | 'comment';

export interface LuaToken {
  readonly kind: LuaTokenKind;
  readonly text: string;
  /** Offsets in the tokenised text: `text === source.slice(start, end)`. */
  readonly start: number;
  readonly end: number;
  /** Whether a line break separates this token from the previous one (or it is the first). */
  readonly newlineBefore: boolean;
}

const KEYWORDS = new Set(
  ('and break do else elseif end false for function if in local nil not or repeat return then true ' + 'until while')
    .split(' ')
    .filter(Boolean),
);

// Longest first, so `==` is one token and not two `=`.
const OPERATORS = ['...', '..', '==', '~=', '<=', '>=', '+', '-', '*', '/', '%', '^', '#', '<', '>', '=']
  .concat(['(', ')', '{', '}', '[', ']', ';', ':', ',', '.'])
  .sort((a, b) => b.length - a.length);

/** Length of a long bracket opening `[[`, `[=[`, ... at `at`, or 0 when there is none. */
function longOpen(source: string, at: number): number {
  const found = /^\[=*\[/.exec(source.slice(at, at + 64));
  return found ? found[0].length : 0;
}

/** End offset of a long bracket (string or comment body) opened at `at` with `open` characters. */
function longEnd(source: string, at: number, open: number): number {
  const close = `]${'='.repeat(open - 2)}]`;
  const end = source.indexOf(close, at + open);
  if (end < 0) throw new Error(`unfinished long bracket at offset ${at}`);
  return end + close.length;
}

function shortStringEnd(source: string, at: number): number {
  const quote = source[at];
  let i = at + 1;
  while (i < source.length && source[i] !== quote) {
    if (source[i] === '\n') throw new Error(`unfinished string at offset ${at}`);
    i += source[i] === '\\' ? 2 : 1;
  }
  if (i >= source.length) throw new Error(`unfinished string at offset ${at}`);
  return i + 1;
}

function numberEnd(source: string, at: number): number {
  const found = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(source.slice(at));
  return at + (found ? found[0].length : 1);
}

/** The token starting at `at` (not whitespace): its kind and end offset. */
function scanToken(source: string, at: number): { kind: LuaTokenKind; end: number } {
  const c = source.charAt(at);
  if (source.startsWith('--', at)) {
    const open = longOpen(source, at + 2);
    if (open > 0) return { kind: 'comment', end: longEnd(source, at + 2, open) };
    const eol = source.indexOf('\n', at);
    return { kind: 'comment', end: eol < 0 ? source.length : eol };
  }
  if (c === "'" || c === '"') return { kind: 'string', end: shortStringEnd(source, at) };
  const open = c === '[' ? longOpen(source, at) : 0;
  if (open > 0) return { kind: 'string', end: longEnd(source, at, open) };
  if (/\d/.test(c) || (c === '.' && /\d/.test(source[at + 1] ?? '')))
    return { kind: 'number', end: numberEnd(source, at) };
  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(at, at + 256));
  if (name) return { kind: KEYWORDS.has(name[0]) ? 'keyword' : 'name', end: at + name[0].length };
  const op = OPERATORS.find((o) => source.startsWith(o, at));
  if (op) return { kind: 'op', end: at + op.length };
  throw new Error(`unexpected character ${JSON.stringify(c)} at offset ${at}`);
}

/** Every token of `source`, comments included (they carry `kind: 'comment'`; callers skip them). */
export function tokenizeLua(source: string): LuaToken[] {
  const tokens: LuaToken[] = [];
  let i = 0;
  let newlineBefore = true;
  while (i < source.length) {
    const c = source.charAt(i);
    if (/\s/.test(c)) {
      if (c === '\n') newlineBefore = true;
      i += 1;
      continue;
    }
    const { kind, end } = scanToken(source, i);
    tokens.push({ kind, text: source.slice(i, end), start: i, end, newlineBefore });
    newlineBefore = false;
    i = end;
  }
  return tokens;
}

/** The tokens that are code (comments dropped). */
export function codeTokens(source: string): LuaToken[] {
  return tokenizeLua(source).filter((t) => t.kind !== 'comment');
}
