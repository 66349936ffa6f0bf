import { compilePattern, matchPattern, PatternError } from './extglob.ts';
import { TOP_WORD, type Word } from './shell-ast.ts';
import type { BlockMark, BlockScan } from './shell-compound.ts';
import { expandPattern, expandScalar, Unevaluable, type Env } from './shell-expand.ts';
import type { ShellScanner } from './shell-words.ts';

/**
 * Static evaluation of `if` in defines, for the one form the tree uses:
 * `if [[ WORD == PATTERN ]]; then ...` (also `=`, `!=`, and `elif`/`else`).
 * Any other condition, or one whose words need bash, makes the whole block
 * unknown; the caller then refuses every variable the block may assign.
 */

export interface BodyRange {
  start: number;
  end: number;
}

/** Reads `[[ W op W ]]` between `from` and `to`; undefined when it is another kind of test. */
function readTest(sc: ShellScanner, from: number, to: number): { left: Word; op: string; right: Word } | undefined {
  const save = sc.pos;
  try {
    sc.pos = from;
    const words: Word[] = [];
    const texts: string[] = [];
    for (;;) {
      while (sc.peek() === ' ' || sc.peek() === '\t') sc.pos++;
      if (sc.pos >= to || sc.peek() === ';' || sc.peek() === '\n') break;
      const start = sc.pos;
      words.push(sc.parseWord(TOP_WORD));
      if (sc.pos === start) return undefined;
      texts.push(sc.text.slice(start, sc.pos));
    }
    if (sc.pos < to && !/^[;\s]*$/.test(sc.text.slice(sc.pos, to))) return undefined;
    if (texts.length !== 5 || texts[0] !== '[[' || texts[4] !== ']]' || !['==', '=', '!='].includes(texts[2] as string))
      return undefined;
    return { left: words[1] as Word, op: texts[2] as string, right: words[3] as Word };
  } finally {
    sc.pos = save;
  }
}

function evaluate(sc: ShellScanner, env: Env, from: number, to: number): boolean | undefined {
  const test = readTest(sc, from, to);
  if (!test) return undefined;
  try {
    const matched = matchPattern(compilePattern(expandPattern(test.right, env)), expandScalar(test.left, env));
    return test.op === '!=' ? !matched : matched;
  } catch (err) {
    if (err instanceof Unevaluable || err instanceof PatternError) return undefined;
    throw err;
  }
}

/**
 * The body the `if` block would run: a range, null when no branch runs, or
 * undefined when a condition cannot be evaluated statically.
 */
export function takenBranch(
  sc: ShellScanner,
  env: Env,
  ifStart: number,
  scan: BlockScan,
): BodyRange | null | undefined {
  const marks = scan.marks.filter((m) => ['then', 'elif', 'else', 'fi'].includes(m.word));
  let condFrom = ifStart + 2;
  for (let i = 0; i < marks.length; i++) {
    const mark = marks[i] as BlockMark;
    const next = marks[i + 1];
    if (mark.word === 'else' && next) return { start: mark.end, end: next.start };
    if (mark.word !== 'then' || !next) {
      if (mark.word === 'elif') condFrom = mark.end;
      continue;
    }
    const result = evaluate(sc, env, condFrom, mark.start);
    if (result === undefined) return undefined;
    if (result) return { start: mark.end, end: next.start };
  }
  return null;
}
