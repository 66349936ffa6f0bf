import { TOP_WORD } from './shell-ast.ts';
import type { ShellScanner } from './shell-words.ts';

/**
 * Skips bash compound statements (`if ... fi`, `for ... done`, `case ...
 * esac`, `{ ... }`, function bodies) without running them. Defines may
 * define or override autobuild4's hook functions (BUILD_READY(), ...) and
 * wrap assignments in `if`; the static reader steps over such blocks and
 * learns which variables they may assign.
 */

type Token =
  | { kind: 'word'; text: string; start: number; end: number }
  | { kind: 'op'; text: string; start: number }
  | { kind: 'end' };

const OPENERS: Record<string, string> = {
  if: 'fi',
  case: 'esac',
  for: 'done',
  while: 'done',
  until: 'done',
  select: 'done',
  '{': '}',
};
const CLOSERS = new Set(['fi', 'esac', 'done', '}']);
/** Reserved words after which the next word is again a command word. */
const KEEP_COMMAND_POSITION = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', '{', 'time']);
const ASSIGNED = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=/;
const MAX_TOKENS = 1 << 20;

function skipBlanks(sc: ShellScanner): void {
  for (;;) {
    const c = sc.peek();
    if (c === ' ' || c === '\t') sc.pos++;
    else if (c === '\\' && sc.peek(1) === '\n') sc.pos += 2;
    else return;
  }
}

/** Reads one token: a shell word (quotes and expansions included) or an operator. */
export function nextToken(sc: ShellScanner): Token {
  for (;;) {
    skipBlanks(sc);
    const c = sc.peek();
    if (c === undefined) return { kind: 'end' };
    if (c === '#') {
      const nl = sc.text.indexOf('\n', sc.pos);
      sc.pos = nl < 0 ? sc.text.length : nl;
      continue;
    }
    const start = sc.pos;
    if (';&|\n<>()'.includes(c)) {
      const two = sc.text.slice(start, start + 2);
      sc.pos += ['&&', '||', ';;', '>>', '<<'].includes(two) ? 2 : 1;
      return { kind: 'op', text: sc.text.slice(start, sc.pos), start };
    }
    sc.parseWord(TOP_WORD);
    if (sc.pos === start) sc.pos++;
    return { kind: 'word', text: sc.text.slice(start, sc.pos), start, end: sc.pos };
  }
}

/** A reserved word of the outermost block: `then`, `elif`, `else`, `fi`, `do`, `done`, ... */
export interface BlockMark {
  word: string;
  start: number;
  end: number;
}

export interface BlockScan {
  /** Position just after the closing word. */
  end: number;
  /** Every variable the block may assign (conservatively: any `NAME=` word, `for NAME`). */
  assigned: string[];
  /** The reserved words at the block's own level, in order. */
  marks: BlockMark[];
}

/**
 * Scans from the opening word at the cursor (`if`, `for`, `{`, ...) to the
 * word that closes it, honouring nesting, quotes and comments. The cursor
 * ends just after the closing word.
 */
export function scanBlock(sc: ShellScanner, label?: string): BlockScan {
  const start = sc.pos;
  const stack: string[] = [];
  const assigned = new Set<string>();
  const marks: BlockMark[] = [];
  let commandPosition = true;
  let afterFor = false;
  for (let n = 0; n < MAX_TOKENS; n++) {
    const t = nextToken(sc);
    if (t.kind === 'end')
      return sc.fail(`unterminated \`${label ?? sc.text.slice(start, start + 8).split(/\s/)[0]}\` block`, start);
    if (t.kind === 'op') {
      // A here-document's lines are not commands; without reading
      // them as bash does, a `}` in one would end the block early.
      if (t.text === '<<') sc.fail('here-documents (<<) in a block cannot be skipped statically', t.start);
      commandPosition = t.text !== '<' && t.text !== '>' && t.text !== '>>' && t.text !== '<<';
      continue;
    }
    const m = ASSIGNED.exec(t.text);
    if (m) assigned.add(m[1] as string);
    if (afterFor && /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.text)) assigned.add(t.text);
    afterFor = commandPosition && (t.text === 'for' || t.text === 'select');
    if (!commandPosition) continue;
    if (stack.length === 1) marks.push({ word: t.text, start: t.start, end: t.end });
    const closer = OPENERS[t.text];
    if (closer) stack.push(closer);
    else if (CLOSERS.has(t.text) && stack.at(-1) === t.text) {
      stack.pop();
      if (stack.length === 0) return { end: sc.pos, assigned: [...assigned], marks };
    }
    commandPosition = KEEP_COMMAND_POSITION.has(t.text) || m !== null;
  }
  return sc.fail('block is too long to scan', start);
}

/** Skips a simple command (e.g. `alias NAME='...'`) up to the end of its statement. */
export function skipSimpleCommand(sc: ShellScanner): void {
  for (;;) {
    const save = sc.pos;
    const t = nextToken(sc);
    if (t.kind === 'end') return;
    if (t.kind === 'op' && t.text === '<<') sc.fail('here-documents (<<) cannot be skipped statically', t.start);
    if (
      t.kind === 'op' &&
      (t.text === '\n' || t.text === ';' || t.text === '&&' || t.text === '||' || t.text === '|' || t.text === '&')
    ) {
      sc.pos = save;
      return;
    }
  }
}
