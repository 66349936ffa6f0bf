/**
 * A small matcher for bash patterns with `shopt -s extglob`: `*`, `?`, `[...]`
 * (with `!`/`^` negation, ranges and `[:class:]`), backslash escapes and the
 * extended forms `?(a|b)`, `*(a|b)`, `+(a|b)`, `@(a|b)` and `!(a|b)`.
 * It never shells out. Patterns are matched against whole strings unless a
 * caller asks for the set of end positions (used by `${VAR%pat}` and friends).
 */

export type PatternNode =
  | { kind: 'char'; ch: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; test: (ch: string) => boolean }
  | { kind: 'ext'; op: '?' | '*' | '+' | '@' | '!'; alts: PatternNode[][] };

/** A pattern too deeply nested or too costly to match; callers turn it into a message. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

const MAX_NESTING = 32;
/** Set insertions one match may cost; far above anything a real pattern needs. */
const DEFAULT_BUDGET = 2_000_000;

export interface CompiledPattern {
  readonly source: string;
  readonly nodes: PatternNode[];
}

const CLASSES: Record<string, (ch: string) => boolean> = {
  alpha: (c) => /[A-Za-z]/.test(c),
  digit: (c) => /[0-9]/.test(c),
  alnum: (c) => /[A-Za-z0-9]/.test(c),
  upper: (c) => /[A-Z]/.test(c),
  lower: (c) => /[a-z]/.test(c),
  space: (c) => /\s/.test(c),
  blank: (c) => c === ' ' || c === '\t',
  punct: (c) => /[!-/:-@[-`{-~]/.test(c),
  xdigit: (c) => /[0-9A-Fa-f]/.test(c),
  word: (c) => /\w/.test(c),
  print: (c) => c >= ' ' && c !== '\x7f',
  graph: (c) => c > ' ' && c !== '\x7f',
  cntrl: (c) => c < ' ' || c === '\x7f',
};

/** Parses a bracket expression starting at `start` (the `[`); null when it is not one. */
function parseClass(p: string, start: number): { node: PatternNode; end: number } | null {
  let i = start + 1;
  let negated = false;
  if (p[i] === '!' || p[i] === '^') {
    negated = true;
    i++;
  }
  const tests: Array<(ch: string) => boolean> = [];
  let first = true;
  while (i < p.length && (first || p[i] !== ']')) {
    first = false;
    if (p[i] === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      const fn = close > 0 ? CLASSES[p.slice(i + 2, close)] : undefined;
      if (fn) {
        tests.push(fn);
        i = close + 2;
        continue;
      }
    }
    let lo = p[i] as string;
    if (lo === '\\' && i + 1 < p.length) lo = p[++i] as string;
    if (p[i + 1] === '-' && p[i + 2] !== undefined && p[i + 2] !== ']') {
      let hi = p[i + 2] as string;
      let skip = 3;
      if (hi === '\\' && i + 3 < p.length) {
        hi = p[i + 3] as string;
        skip = 4;
      }
      const low = lo;
      tests.push((c) => c >= low && c <= hi);
      i += skip;
    } else {
      const ch = lo;
      tests.push((c) => c === ch);
      i++;
    }
  }
  if (i >= p.length) return null;
  const test = (c: string): boolean => tests.some((t) => t(c)) !== negated;
  return { node: { kind: 'class', test }, end: i + 1 };
}

/** Parses nodes until `stop` (`|` or `)` inside an extended group) or the end. */
function parseSeq(p: string, pos: number, nested: boolean, depth = 0): { nodes: PatternNode[]; end: number } {
  if (depth > MAX_NESTING) throw new PatternError(`pattern nests extended groups more than ${MAX_NESTING} deep`);
  const nodes: PatternNode[] = [];
  let i = pos;
  while (i < p.length) {
    const c = p[i] as string;
    if (nested && (c === '|' || c === ')')) break;
    if ('?*+@!'.includes(c) && p[i + 1] === '(') {
      const ext = parseExt(p, i, depth);
      if (ext) {
        nodes.push(ext.node);
        i = ext.end;
        continue;
      }
    }
    if (c === '\\' && i + 1 < p.length) {
      nodes.push({ kind: 'char', ch: p[i + 1] as string });
      i += 2;
    } else if (c === '*') {
      if (nodes.at(-1)?.kind !== 'star') nodes.push({ kind: 'star' });
      i++;
    } else if (c === '?') {
      nodes.push({ kind: 'any' });
      i++;
    } else if (c === '[') {
      const cls = parseClass(p, i);
      nodes.push(cls ? cls.node : { kind: 'char', ch: '[' });
      i = cls ? cls.end : i + 1;
    } else {
      nodes.push({ kind: 'char', ch: c });
      i++;
    }
  }
  return { nodes, end: i };
}

function parseExt(p: string, start: number, depth: number): { node: PatternNode; end: number } | null {
  const op = p[start] as '?' | '*' | '+' | '@' | '!';
  const alts: PatternNode[][] = [];
  let i = start + 2;
  for (;;) {
    const seq = parseSeq(p, i, true, depth + 1);
    alts.push(seq.nodes);
    if (seq.end >= p.length) return null; // unbalanced: treat the operator as literal
    i = seq.end + 1;
    if (p[seq.end] === ')') break;
  }
  return { node: { kind: 'ext', op, alts }, end: i };
}

export function compilePattern(source: string): CompiledPattern {
  return { source, nodes: parseSeq(source, 0, false).nodes };
}

/** Matching state for one subject string: memoises end positions per node list. */
export class PatternMatcher {
  private readonly memo = new Map<PatternNode[], Map<number, Set<number>>>();

  private budget: number;

  constructor(
    private readonly subject: string,
    budget = DEFAULT_BUDGET,
  ) {
    this.budget = budget;
  }

  private spend(n: number): void {
    this.budget -= n;
    if (this.budget < 0)
      throw new PatternError(`pattern is too costly to match against a ${this.subject.length}-character value`);
  }

  /** Every position where `nodes` can stop when started at `start`. */
  ends(nodes: PatternNode[], start: number): Set<number> {
    return this.suffixEnds(nodes, 0, start);
  }

  /** End positions of `nodes.slice(index)` from `start`, memoised per (list, index, start). */
  private suffixEnds(nodes: PatternNode[], index: number, start: number): Set<number> {
    if (index === nodes.length) return new Set([start]);
    let table = this.memo.get(nodes);
    if (!table) {
      table = new Map();
      this.memo.set(nodes, table);
    }
    const key = index * (this.subject.length + 1) + start;
    const cached = table.get(key);
    if (cached) return cached;
    const out = new Set<number>();
    for (const mid of this.nodeEnds(nodes[index] as PatternNode, start)) {
      const ends = this.suffixEnds(nodes, index + 1, mid);
      this.spend(ends.size + 1);
      for (const end of ends) out.add(end);
    }
    table.set(key, out);
    return out;
  }

  private altEnds(alts: PatternNode[][], start: number): Set<number> {
    const out = new Set<number>();
    for (const alt of alts) {
      const ends = this.ends(alt, start);
      this.spend(ends.size + 1);
      for (const e of ends) out.add(e);
    }
    return out;
  }

  private nodeEnds(node: PatternNode, start: number): Iterable<number> {
    const s = this.subject;
    switch (node.kind) {
      case 'char':
        return s[start] === node.ch ? [start + 1] : [];
      case 'any':
        return start < s.length ? [start + 1] : [];
      case 'class':
        return start < s.length && node.test(s[start] as string) ? [start + 1] : [];
      case 'star':
        this.spend(s.length - start + 1);
        return Array.from({ length: s.length - start + 1 }, (_, k) => start + k);
      case 'ext':
        return this.extEnds(node, start);
    }
  }

  private extEnds(node: Extract<PatternNode, { kind: 'ext' }>, start: number): Set<number> {
    if (node.op === '@') return this.altEnds(node.alts, start);
    if (node.op === '?') return new Set([start, ...this.altEnds(node.alts, start)]);
    if (node.op === '!') {
      const matched = this.altEnds(node.alts, start);
      this.spend(this.subject.length - start + 1);
      const out = new Set<number>();
      for (let e = start; e <= this.subject.length; e++) if (!matched.has(e)) out.add(e);
      return out;
    }
    // '*' and '+': closure over repeated alternatives (progress required to loop).
    const seen = new Set<number>(node.op === '*' ? [start] : []);
    const queue = [start];
    while (queue.length > 0) {
      const from = queue.shift() as number;
      for (const e of this.altEnds(node.alts, from)) {
        if (!seen.has(e)) {
          seen.add(e);
          if (e !== from) queue.push(e);
        }
      }
    }
    return seen;
  }
}

/** True when `pattern` matches the whole of `subject`. */
export function matchPattern(pattern: string | CompiledPattern, subject: string): boolean {
  const compiled = typeof pattern === 'string' ? compilePattern(pattern) : pattern;
  return new PatternMatcher(subject).ends(compiled.nodes, 0).has(subject.length);
}

/** Escapes every character that has a meaning in a pattern. */
export function escapePattern(text: string): string {
  return text.replace(/[\\*?[\]!@+()|]/g, (c) => `\\${c}`);
}
