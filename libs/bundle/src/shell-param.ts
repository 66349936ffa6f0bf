import { BRACE_WORD, REPLACE_PATTERN_WORD, type ParamOp, type Part, type Subscript, type Word } from './shell-ast.ts';
import type { ShellScanner } from './shell-words.ts';

/**
 * Parses `${...}` at the scanner's cursor (which sits on the `$`). Supported:
 * `${V}`, `${#V}`, `${V[@]}`, `${V[*]}`, `${V[n]}`, `${V:-w}`, `${V-w}`,
 * `${V:+w}`, `${V+w}`, `${V:?w}`, `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`,
 * `${V/p/s}`, `${V//p/s}`, `${V/#p/s}`, `${V/%p/s}`, `${V:off}`, `${V:off:len}`
 * (integer literals), `${V^}`, `${V^^}`, `${V,}`, `${V,,}`. Anything else
 * becomes an `unsupported` part with the reason.
 */
export function parseBracedExpansion(sc: ShellScanner, quoted: boolean): Part {
  const start = sc.pos;
  sc.pos += 2;
  const unsupported = (what: string): Part => {
    skipToClose(sc, start);
    const text = sc.text.slice(start, sc.pos);
    return { kind: 'unsupported', reason: `${what} ${text} cannot be evaluated statically` };
  };
  if (sc.peek() === '!') return unsupported('indirect expansion');
  let length = false;
  if (sc.peek() === '#' && /[A-Za-z_]/.test(sc.peek(1) ?? '')) {
    length = true;
    sc.pos++;
  }
  const name = sc.readName();
  if (name === undefined) return unsupported('special parameter');
  const subscript = readSubscript(sc);
  if (subscript === null) return unsupported('array subscript');
  if (length) {
    if (sc.peek() !== '}') return unsupported('expansion');
    sc.pos++;
    return param(sc, start, name, subscript, { kind: 'length' }, quoted);
  }
  const op = readOperator(sc, start);
  if (op === null) return unsupported('expansion');
  if (sc.peek() !== '}')
    sc.fail(`bad substitution: missing } in ${JSON.stringify(sc.text.slice(start, sc.pos + 1))}`, start);
  sc.pos++;
  return param(sc, start, name, subscript, op, quoted);
}

function param(
  sc: ShellScanner,
  start: number,
  name: string,
  subscript: Subscript | undefined,
  op: ParamOp,
  quoted: boolean,
): Part {
  return { kind: 'param', param: { name, subscript, op, text: sc.text.slice(start, sc.pos) }, quoted };
}

/** Reads `[@]`, `[*]` or `[n]`; undefined when absent, null when unsupported. */
function readSubscript(sc: ShellScanner): Subscript | undefined | null {
  if (sc.peek() !== '[') return undefined;
  const close = sc.text.indexOf(']', sc.pos);
  if (close < 0) return null;
  const inner = sc.text.slice(sc.pos + 1, close);
  if (inner !== '@' && inner !== '*' && !/^\d+$/.test(inner)) return null;
  sc.pos = close + 1;
  if (inner === '@' || inner === '*') return { kind: 'all', joined: inner === '*' };
  return { kind: 'index', index: Number(inner) };
}

function readOperator(sc: ShellScanner, start: number): ParamOp | null {
  const c = sc.peek();
  if (c === '}') return { kind: 'plain' };
  if (c === ':' && '-=?+'.includes(sc.peek(1) ?? 'x')) {
    sc.pos++;
    return valueOperator(sc, true);
  }
  if (c === ':') return readSubstring(sc);
  if (c !== undefined && '-=?+'.includes(c)) return valueOperator(sc, false);
  if (c === '#' || c === '%') {
    const longest = sc.peek(1) === c;
    sc.pos += longest ? 2 : 1;
    const pattern = sc.parseWord(BRACE_WORD);
    return { kind: 'strip', from: c === '#' ? 'prefix' : 'suffix', longest, pattern };
  }
  if (c === '/') return readReplace(sc);
  if (c === '^' || c === ',') {
    const all = sc.peek(1) === c;
    sc.pos += all ? 2 : 1;
    const pattern = sc.parseWord(BRACE_WORD);
    return { kind: 'case', upper: c === '^', all, pattern: pattern.length > 0 ? pattern : undefined };
  }
  if (c === '@') return null;
  return sc.fail(`bad substitution ${JSON.stringify(sc.text.slice(start, sc.pos + 1))}`, start);
}

function valueOperator(sc: ShellScanner, colon: boolean): ParamOp | null {
  const c = sc.peek() as string;
  sc.pos++;
  const word: Word = sc.parseWord(BRACE_WORD);
  if (c === '-') return { kind: 'default', colon, word };
  if (c === '+') return { kind: 'alternate', colon, word };
  if (c === '?') return { kind: 'error-if-unset', colon, word };
  return null; // `${V:=w}` assigns as a side effect: not evaluated
}

function readReplace(sc: ShellScanner): ParamOp {
  sc.pos++;
  let mode: 'first' | 'all' | 'prefix' | 'suffix' = 'first';
  const c = sc.peek();
  if (c === '/') mode = 'all';
  else if (c === '#') mode = 'prefix';
  else if (c === '%') mode = 'suffix';
  if (mode !== 'first') sc.pos++;
  const pattern = sc.parseWord(REPLACE_PATTERN_WORD);
  let replacement: Word = [];
  if (sc.peek() === '/') {
    sc.pos++;
    replacement = sc.parseWord(BRACE_WORD);
  }
  return { kind: 'replace', mode, pattern, replacement };
}

/** `${V:offset}` and `${V:offset:length}` with integer literals only. */
function readSubstring(sc: ShellScanner): ParamOp | null {
  const close = sc.text.indexOf('}', sc.pos);
  if (close < 0) return null;
  const m = /^:\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?$/.exec(sc.text.slice(sc.pos, close));
  if (!m) return null;
  sc.pos = close;
  return { kind: 'substring', offset: Number(m[1]), length: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Moves past the `}` that closes the `${` at `start`, honouring nesting and quotes. */
function skipToClose(sc: ShellScanner, start: number): void {
  sc.pos = start + 2;
  sc.skipBalanced('{', '}', start);
}
