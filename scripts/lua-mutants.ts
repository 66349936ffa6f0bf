/**
 * The mutants of the Lua held in a TypeScript file (scripts/lua-mutation.ts): classic operators
 * applied to the Lua tokens of each literal (scripts/lua-sources.ts), never inside a comment or a
 * string except a state name's string, which is the point of that operator.
 */
import { codeTokens, type LuaToken } from './lua-lexer.ts';
import { findLuaSegments } from './lua-sources.ts';

export type LuaOperator =
  'relational' | 'logical' | 'not-removed' | 'number' | 'state-name' | 'return-value' | 'call-removed' | 'condition';

export interface LuaMutant {
  /** Stable within one source text: `script:offset:operator:replacement`. */
  readonly id: string;
  readonly script: string;
  readonly operator: LuaOperator;
  /** Offsets in the TypeScript file's text of the span replaced. */
  readonly start: number;
  readonly end: number;
  readonly original: string;
  readonly replacement: string;
  /** 1-based, in the TypeScript file. */
  readonly line: number;
  readonly column: number;
}

/** A change proposed on a segment's tokens: the span [start, end) of its text and what replaces it. */
interface Change {
  readonly operator: LuaOperator;
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

const RELATIONAL = new Map(Object.entries({ '==': '~=', '~=': '==', '<': '<=', '<=': '<', '>': '>=', '>=': '>' }));
const LOGICAL = new Map(Object.entries({ and: 'or', or: 'and' }));
/** Build, task and group states, each replaced by the next (the last by the first). */
export const STATE_NAMES = ['created', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];

function tokenChanges(tokens: readonly LuaToken[]): Change[] {
  const changes: Change[] = [];
  tokens.forEach((t, i) => {
    const at = (operator: LuaOperator, replacement: string, end = t.end): void => {
      changes.push({ operator, start: t.start, end, replacement });
    };
    const flipped = t.kind === 'op' ? RELATIONAL.get(t.text) : t.kind === 'keyword' ? LOGICAL.get(t.text) : undefined;
    if (flipped !== undefined) at(t.kind === 'op' ? 'relational' : 'logical', flipped);
    if (t.kind === 'keyword' && t.text === 'not') at('not-removed', '', tokens[i + 1]?.start ?? t.end);
    if (t.kind === 'number' && /^\d+$/.test(t.text)) {
      const n = Number(t.text);
      at('number', String(n === 1 ? 0 : n + 1));
    }
    if (t.kind === 'string') {
      const state = STATE_NAMES.indexOf(t.text.slice(1, -1));
      const quote = t.text[0];
      if (state >= 0 && (quote === "'" || quote === '"')) {
        at('state-name', `${quote}${STATE_NAMES[(state + 1) % STATE_NAMES.length] ?? ''}${quote}`);
      }
    }
  });
  return changes;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** Index of the first token from `from` at bracket depth 0 for which `stop` holds (tokens.length if none). */
function scanTo(tokens: readonly LuaToken[], from: number, stop: (t: LuaToken) => boolean): number {
  let depth = 0;
  for (const [offset, t] of tokens.slice(from).entries()) {
    const i = from + offset;
    if (depth === 0 && stop(t)) return i;
    if (t.kind === 'op' && OPEN.has(t.text)) depth += 1;
    if (t.kind === 'op' && CLOSE.has(t.text)) {
      depth -= 1;
      if (depth < 0) return i;
    }
  }
  return tokens.length;
}

/** The text span of tokens `first` to `last` (both included), or null when that is no token. */
function span(tokens: readonly LuaToken[], first: number, last: number): { start: number; end: number } | null {
  const [a, b] = [tokens[first], tokens[last]];
  return a && b && last >= first ? { start: a.start, end: b.end } : null;
}

const isKeyword =
  (...words: string[]) =>
  (t: LuaToken): boolean =>
    t.kind === 'keyword' && words.includes(t.text);

/** `if C then`, `elseif C then`, `while C do`: C forced true and false. */
function conditionChanges(tokens: readonly LuaToken[]): Change[] {
  const changes: Change[] = [];
  tokens.forEach((t, i) => {
    if (!isKeyword('if', 'elseif', 'while')(t)) return;
    const stop = scanTo(tokens, i + 1, isKeyword(t.text === 'while' ? 'do' : 'then'));
    const cond = stop < tokens.length ? span(tokens, i + 1, stop - 1) : null;
    if (!cond) return;
    for (const value of ['true', 'false']) changes.push({ operator: 'condition', ...cond, replacement: value });
  });
  return changes;
}

/** `return E`: E as `nil`, or a boolean E flipped. */
function returnChanges(tokens: readonly LuaToken[]): Change[] {
  const changes: Change[] = [];
  tokens.forEach((t, i) => {
    if (!isKeyword('return')(t)) return;
    const stop = scanTo(tokens, i + 1, (s) => isKeyword('end', 'else', 'elseif', 'until')(s) || s.text === ';');
    const value = span(tokens, i + 1, stop - 1);
    if (!value) return;
    const only = stop === i + 2 ? tokens[i + 1]?.text : '';
    const replacement = only === 'true' ? 'false' : only === 'false' ? 'true' : 'nil';
    changes.push({ operator: 'return-value', ...value, replacement });
  });
  return changes;
}

/** Whether a call starting at token `i` is a statement (not part of an expression). */
function atStatementStart(tokens: readonly LuaToken[], i: number): boolean {
  const before = tokens[i - 1];
  const newline = tokens[i]?.newlineBefore ?? false;
  if (!before) return true;
  if (before.kind === 'keyword')
    return ['then', 'else', 'do', 'end', 'repeat', 'true', 'false', 'nil'].includes(before.text);
  if (before.kind === 'op') return before.text === ';' || (newline && CLOSE.has(before.text));
  return newline; // a name, number or string ending the previous statement
}

/** Each `redis.call(...)` / `redis.pcall(...)` statement removed. */
function callChanges(tokens: readonly LuaToken[]): Change[] {
  const changes: Change[] = [];
  tokens.forEach((t, i) => {
    const [dot, fn, paren] = [tokens[i + 1], tokens[i + 2], tokens[i + 3]];
    if (t.text !== 'redis' || dot?.text !== '.' || !['call', 'pcall'].includes(fn?.text ?? '') || paren?.text !== '(')
      return;
    if (!atStatementStart(tokens, i)) return;
    const call = span(
      tokens,
      i,
      scanTo(tokens, i + 4, () => false),
    );
    if (call) changes.push({ operator: 'call-removed', ...call, replacement: '' });
  });
  return changes;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Every mutant of the Lua in the TypeScript source `text`, in file order, each distinct and each a change. */
export function generateLuaMutants(fileName: string, text: string): LuaMutant[] {
  const mutants = new Map<string, LuaMutant>();
  for (const segment of findLuaSegments(fileName, text)) {
    const tokens = codeTokens(segment.text);
    const changes = [tokenChanges, conditionChanges, returnChanges, callChanges].flatMap((f) => f(tokens));
    for (const change of changes) {
      const start = segment.start + change.start;
      const end = segment.start + change.end;
      const original = text.slice(start, end);
      const key = `${start}:${end}:${change.replacement}`;
      if (original === change.replacement || mutants.has(key)) continue;
      const id = `${segment.script}:${start}:${change.operator}:${change.replacement}`;
      const mutant = { id, script: segment.script, operator: change.operator, start, end, original };
      mutants.set(key, { ...mutant, replacement: change.replacement, ...lineAndColumn(text, start) });
    }
  }
  return [...mutants.values()].sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The TypeScript source with the mutant applied. */
export function applyLuaMutant(text: string, mutant: LuaMutant): string {
  return text.slice(0, mutant.start) + mutant.replacement + text.slice(mutant.end);
}
