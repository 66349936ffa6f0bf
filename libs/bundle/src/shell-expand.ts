import { compilePattern, escapePattern, PatternError, PatternMatcher } from './extglob.ts';
import type { ParamExpansion, Part, Word } from './shell-ast.ts';

/** What a variable holds after the statements before the current one ran. */
export type Binding =
  | { kind: 'scalar'; value: string; line: number }
  | { kind: 'array'; values: string[]; line: number }
  /** A value that cannot be known without running bash; `root` names the first cause. */
  | { kind: 'poison'; reason: string; root: string; line: number };

/**
 * The variables seen so far. `refuse` names the unset variables that must not
 * expand to "" (their value exists only at build time) and says why.
 */
export type Env = Map<string, Binding> & { refuse?: (name: string) => string | undefined };

/** Thrown while expanding a word whose value cannot be computed statically. */
export class Unevaluable extends Error {
  constructor(
    readonly reason: string,
    readonly root?: string,
  ) {
    super(reason);
  }
}

/** Bounds that keep a hostile file from exhausting memory or time. */
export const MAX_VALUE = 1 << 20;
export const MAX_FIELDS = 1 << 16;
const MAX_PATTERN_SUBJECT = 1 << 16;
const MAX_PATTERN = 4096;

export function bounded(text: string): string {
  if (text.length > MAX_VALUE) throw new Unevaluable(`value is longer than ${MAX_VALUE} characters`);
  return text;
}

function lookup(env: Env, name: string): Binding | undefined {
  const b = env.get(name);
  if (b?.kind === 'poison')
    throw new Unevaluable(`uses ${name}, which cannot be evaluated statically (${b.root})`, b.root);
  return b;
}

/** The values a parameter refers to, or undefined when it is unset. */
function baseValues(p: ParamExpansion, env: Env): string[] | undefined {
  const b = lookup(env, p.name);
  if (!b) return undefined;
  const all = b.kind === 'array' ? b.values : [(b as { value: string }).value];
  const sub = p.subscript;
  if (sub?.kind === 'all') return all;
  const index = sub?.kind === 'index' ? sub.index : 0;
  const v = all[index];
  return v === undefined ? undefined : [v];
}

function notSet(p: ParamExpansion): Unevaluable {
  return new Unevaluable(`$${p.name} is not set here (${p.text})`);
}

/** The values of a parameter, or undefined when it is unset; refused names throw. */
function valuesOf(p: ParamExpansion, env: Env): string[] | undefined {
  const values = baseValues(p, env);
  if (values !== undefined || env.has(p.name)) return values;
  const refusal = env.refuse?.(p.name);
  if (refusal !== undefined) throw new Unevaluable(`${p.text}: ${refusal}`);
  return undefined;
}

/**
 * Expands one parameter to its values (several only for `[@]`/`[*]`). An
 * unset variable expands as bash expands it (to "", or to no field for
 * `[@]`), unless `env.refuse` names it.
 */
export function expandParam(p: ParamExpansion, env: Env): string[] {
  const values = valuesOf(p, env);
  const op = p.op;
  const unset = p.subscript?.kind === 'all' ? [] : [''];
  const empty = values === undefined || values.join(' ') === '';
  switch (op.kind) {
    case 'plain':
      return values ?? unset;
    case 'length':
      if (values === undefined) return ['0'];
      return [String(p.subscript?.kind === 'all' ? values.length : (values[0] ?? '').length)];
    case 'default':
      return values === undefined || (op.colon && empty) ? [expandScalar(op.word, env)] : values;
    case 'alternate':
      return values === undefined || (op.colon && empty) ? [] : [expandScalar(op.word, env)];
    case 'error-if-unset':
      if (values === undefined || (op.colon && empty)) throw notSet(p);
      return values;
    default:
      return (values ?? unset).map((v) => transform(v, p, env));
  }
}

function transform(value: string, p: ParamExpansion, env: Env): string {
  const op = p.op;
  if (op.kind !== 'substring' && value.length > MAX_PATTERN_SUBJECT) {
    throw new Unevaluable(`${p.text} on a value longer than ${MAX_PATTERN_SUBJECT} characters is not evaluated`);
  }
  try {
    if (op.kind === 'strip') return strip(value, expandPattern(op.pattern, env), op.from, op.longest);
    if (op.kind === 'replace') return replace(value, op.mode, expandPattern(op.pattern, env), op.replacement, env);
    if (op.kind === 'substring') return substring(value, op.offset, op.length, p);
    if (op.kind === 'case')
      return changeCase(value, op.upper, op.all, op.pattern ? expandPattern(op.pattern, env) : '?');
    return value;
  } catch (err) {
    if (err instanceof PatternError) throw new Unevaluable(`${p.text}: ${err.message}`);
    throw err;
  }
}

function compileBounded(pattern: string): ReturnType<typeof compilePattern>['nodes'] {
  if (pattern.length > MAX_PATTERN)
    throw new Unevaluable(`patterns longer than ${MAX_PATTERN} characters are not evaluated`);
  return compilePattern(pattern).nodes;
}

function strip(value: string, pattern: string, from: 'prefix' | 'suffix', longest: boolean): string {
  const nodes = compileBounded(pattern);
  const m = new PatternMatcher(value);
  const n = value.length;
  if (from === 'prefix') {
    const ends = [...m.ends(nodes, 0)].sort((a, b) => a - b);
    const end = longest ? ends.at(-1) : ends[0];
    return end === undefined ? value : value.slice(end);
  }
  const starts = longest ? range(0, n) : range(0, n).reverse();
  const start = starts.find((s) => m.ends(nodes, s).has(n));
  return start === undefined ? value : value.slice(0, start);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, k) => from + k);
}

type Mode = 'first' | 'all' | 'prefix' | 'suffix';

function replace(value: string, mode: Mode, pattern: string, replacement: Word, env: Env): string {
  if (pattern === '') return value;
  const nodes = compileBounded(pattern);
  const m = new PatternMatcher(value);
  const n = value.length;
  const render = (matched: string): string => expandReplacement(replacement, env, matched);
  if (mode === 'prefix') {
    const end = Math.max(-1, ...m.ends(nodes, 0));
    return end < 0 ? value : render(value.slice(0, end)) + value.slice(end);
  }
  if (mode === 'suffix') {
    const start = range(0, n).find((s) => m.ends(nodes, s).has(n));
    return start === undefined ? value : value.slice(0, start) + render(value.slice(start));
  }
  let out = '';
  let i = 0;
  while (i <= n) {
    const end = Math.max(-1, ...[...m.ends(nodes, i)].filter((e) => e > i));
    if (end < 0) {
      out += value.slice(i, i + 1);
      i++;
      continue;
    }
    out = bounded(out + render(value.slice(i, end)));
    i = end;
    if (mode === 'first') return out + value.slice(i);
  }
  return out;
}

/** The replacement of `${V/p/s}`; bash 5.2 (patsub_replacement) puts the match in place of unquoted `&`. */
function expandReplacement(word: Word, env: Env, matched: string): string {
  return word
    .map((part) => {
      const text = part.kind === 'text' ? part.text : partScalar(part, env);
      const quoted = part.kind !== 'unsupported' && part.quoted;
      return quoted ? text : text.replace(/&/g, matched);
    })
    .join('');
}

function substring(value: string, offset: number, length: number | undefined, p: ParamExpansion): string {
  const n = value.length;
  const start = offset < 0 ? n + offset : offset;
  if (start < 0 || start > n) return '';
  if (length === undefined) return value.slice(start);
  if (length >= 0) return value.slice(start, start + length);
  const end = n + length;
  if (end < start) throw new Unevaluable(`substring expression < 0 in ${p.text}`);
  return value.slice(start, end);
}

function changeCase(value: string, upper: boolean, all: boolean, pattern: string): string {
  const compiled = { nodes: compileBounded(pattern) };
  const conv = (c: string): string => (upper ? c.toUpperCase() : c.toLowerCase());
  const chars = [...value];
  const limit = all ? chars.length : Math.min(1, chars.length);
  for (let i = 0; i < limit; i++) {
    const c = chars[i] as string;
    if (new PatternMatcher(c).ends(compiled.nodes, 0).has(c.length)) chars[i] = conv(c);
  }
  return chars.join('');
}

function partScalar(part: Part, env: Env): string {
  if (part.kind === 'text') return part.text;
  if (part.kind === 'unsupported') throw new Unevaluable(part.reason);
  return expandParam(part.param, env).join(' ');
}

/** Expands a word where no field splitting happens (the right side of `NAME=`). */
export function expandScalar(word: Word, env: Env): string {
  let out = '';
  for (const part of word) out = bounded(out + partScalar(part, env));
  return out;
}

/** Expands a word used as a pattern: quoted text matches literally. */
export function expandPattern(word: Word, env: Env): string {
  return word
    .map((part) => {
      const text = partScalar(part, env);
      return part.kind !== 'unsupported' && part.quoted ? escapePattern(text) : text;
    })
    .join('');
}
