import type { ParamExpansion, Word } from './shell-ast.ts';
import { bounded, expandParam, MAX_FIELDS, Unevaluable, type Env } from './shell-expand.ts';

/**
 * Words as the elements of an array (`NAME=( ... )`): the fields bash would make
 * of them, or Unevaluable where only running bash could tell (pathname and brace
 * expansion of unquoted text).
 */
const GLOB_CHARS = /[*?[]/;
const BRACE_EXPANSION = /\{[^{}]*(?:,|\.\.)[^{}]*\}/;

/** The fields made so far and the one being made, which counts once begun (`""` begins an empty field). */
class FieldBuilder {
  readonly fields: string[] = [];
  private current = '';
  private begun = false;

  add(text: string): void {
    this.current += text;
    this.begun = true;
  }

  /** Adds text of the word itself, whose length is bounded as it grows. */
  addBounded(text: string): void {
    this.current = bounded(this.current + text);
    this.begun = true;
  }

  /** Ends the field being made (when begun); the next text starts another. */
  end(): void {
    if (this.begun) this.fields.push(this.current);
    this.current = '';
    this.begun = false;
  }
}

/** An unquoted expansion's value: split on blanks, each piece checked for glob characters. */
function splitInto(builder: FieldBuilder, text: string): void {
  text.split(/[ \t\n]+/).forEach((piece, i) => {
    if (i > 0) builder.end();
    if (GLOB_CHARS.test(piece))
      throw new Unevaluable(`pathname expansion of unquoted "${piece}" in an array cannot be evaluated statically`);
    if (piece !== '') builder.add(piece);
  });
}

/** Literal text: unquoted, it must not ask for pathname or brace expansion. */
function checkText(text: string, quoted: boolean): void {
  if (quoted) return;
  if (GLOB_CHARS.test(text))
    throw new Unevaluable(`pathname expansion of unquoted "${text}" in an array cannot be evaluated statically`);
  if (BRACE_EXPANSION.test(text))
    throw new Unevaluable(`brace expansion of unquoted "${text}" in an array cannot be evaluated statically`);
}

/** A parameter's values: split when unquoted, one field each for a quoted `"${a[@]}"`, else joined. */
function addValues(builder: FieldBuilder, param: ParamExpansion, quoted: boolean, values: string[]): void {
  const sub = param.subscript;
  if (!quoted) splitInto(builder, values.join(' '));
  else if (sub?.kind === 'all' && !sub.joined) {
    values.forEach((v, i) => {
      if (i > 0) builder.end();
      builder.add(v);
    });
  } else builder.add(values.join(' '));
}

/** Expands an array element (`NAME=( ... )`): unquoted expansions split on blanks. */
export function expandFields(word: Word, env: Env): string[] {
  const builder = new FieldBuilder();
  for (const part of word) {
    if (part.kind === 'unsupported') throw new Unevaluable(part.reason);
    if (part.kind === 'text') {
      checkText(part.text, part.quoted);
      builder.addBounded(part.text);
      continue;
    }
    const values = expandParam(part.param, env);
    if (builder.fields.length > MAX_FIELDS) throw new Unevaluable(`array has more than ${MAX_FIELDS} elements`);
    addValues(builder, part.param, part.quoted, values);
  }
  builder.end();
  return boundedFields(builder.fields);
}

/** Checks an array's size (element count and total length). */
export function boundedFields(fields: string[]): string[] {
  if (fields.length > MAX_FIELDS) throw new Unevaluable(`array has more than ${MAX_FIELDS} elements`);
  bounded(fields.join(' '));
  return fields;
}
