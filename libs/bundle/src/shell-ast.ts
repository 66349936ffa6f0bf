/**
 * Syntax tree of the bash subset read from `spec` and `defines`: words made of
 * literal text, quoted text and parameter expansions. Constructs that cannot be
 * evaluated without running bash are kept as `unsupported` parts so the error
 * can be raised only when a value that depends on them is actually read.
 */

export type Part =
  | { kind: 'text'; text: string; quoted: boolean }
  | { kind: 'param'; param: ParamExpansion; quoted: boolean }
  | { kind: 'unsupported'; reason: string };

/** A word is a sequence of parts concatenated without separators. */
export type Word = Part[];

export type Subscript = { kind: 'all'; joined: boolean } | { kind: 'index'; index: number };

export type ParamOp =
  | { kind: 'plain' }
  | { kind: 'length' }
  | { kind: 'default'; colon: boolean; word: Word }
  | { kind: 'alternate'; colon: boolean; word: Word }
  | { kind: 'error-if-unset'; colon: boolean; word: Word }
  | { kind: 'strip'; from: 'prefix' | 'suffix'; longest: boolean; pattern: Word }
  | { kind: 'replace'; mode: 'first' | 'all' | 'prefix' | 'suffix'; pattern: Word; replacement: Word }
  | { kind: 'substring'; offset: number; length: number | undefined }
  | { kind: 'case'; upper: boolean; all: boolean; pattern: Word | undefined };

export interface ParamExpansion {
  name: string;
  subscript: Subscript | undefined;
  op: ParamOp;
  /** The source text, for messages. */
  text: string;
}

/** An assignment statement: `NAME=word`, `NAME+=word` or `NAME=(words...)`. */
export interface Assignment {
  name: string;
  append: boolean;
  line: number;
  value: { kind: 'scalar'; word: Word } | { kind: 'array'; words: Word[] };
}

/** A parse failure that makes the whole file unreadable (as opposed to one value). */
export class ShellSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

/** Where a word is being read; decides which characters end it. */
export interface WordContext {
  /** Unquoted characters that end the word. */
  stops: string;
  /** Inside `${...}` blanks and newlines are part of the word. */
  blanksLiteral: boolean;
}

export const TOP_WORD: WordContext = { stops: ' \t\n;&|<>()', blanksLiteral: false };
export const BRACE_WORD: WordContext = { stops: '}', blanksLiteral: true };
export const REPLACE_PATTERN_WORD: WordContext = { stops: '}/', blanksLiteral: true };
