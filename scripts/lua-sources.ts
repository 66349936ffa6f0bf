/**
 * Finds the Lua held in a TypeScript file (the farm's state scripts are template literals): parses
 * the file with the TypeScript compiler and returns each literal's Lua text with its offsets in the
 * file, so a mutant is the file's text with one span of a literal replaced.
 */
import ts from 'typescript';

/** One run of Lua text in the file: a whole literal, or one part of a template between `${...}`s. */
export interface LuaSegment {
  /** The const the literal initialises (e.g. `transitionScript`). */
  readonly script: string;
  /** Offsets of the literal's raw text (inside the quotes or backticks) in the file. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Whether the const named `name`, initialised with `text`, holds Lua. */
function holdsLua(name: string, text: string): boolean {
  return /(Script|LuaFn|luaAllowedFn)$/.test(name) || /redis\.p?call\(/.test(text);
}

type LuaLiteral = ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression | ts.StringLiteral;

function isLuaLiteral(node: ts.Node | undefined): node is LuaLiteral {
  return (
    node !== undefined &&
    (ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node) || ts.isStringLiteral(node))
  );
}

/** The raw-text spans of a literal: inside its quotes, and for a template each part between substitutions. */
function literalSpans(node: LuaLiteral, file: ts.SourceFile): Array<[number, number]> {
  if (!ts.isTemplateExpression(node)) return [[node.getStart(file) + 1, node.getEnd() - 1]];
  const spans: Array<[number, number]> = [[node.head.getStart(file) + 1, node.head.getEnd() - 2]];
  for (const span of node.templateSpans) {
    const literal = span.literal;
    const closing = ts.isTemplateTail(literal) ? 1 : 2; // '`' or '${'
    spans.push([literal.getStart(file) + 1, literal.getEnd() - closing]);
  }
  return spans;
}

/** Each const of the file initialised with a literal that holds Lua, in file order. */
function luaLiterals(fileName: string, text: string): { file: ts.SourceFile; found: Array<[string, LuaLiteral]> } {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Array<[string, LuaLiteral]> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && isLuaLiteral(node.initializer)) {
      if (holdsLua(node.name.text, node.initializer.getText(file))) found.push([node.name.text, node.initializer]);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return { file, found };
}

/** Every Lua segment of the TypeScript source `text` (named `fileName` in errors), in file order. */
export function findLuaSegments(fileName: string, text: string): LuaSegment[] {
  const { file, found } = luaLiterals(fileName, text);
  return found.flatMap(([script, literal]) =>
    literalSpans(literal, file).map(([start, end]) => ({ script, start, end, text: text.slice(start, end) })),
  );
}

/**
 * The Lua scripts of `text` as Redis gets them, with each `${...}` substitution left out (what the
 * compile check loads: a helper such as `allowed` is then a global, which compiles the same).
 */
export function luaScripts(fileName: string, text: string): Map<string, string> {
  const { found } = luaLiterals(fileName, text);
  const parts = (literal: LuaLiteral): string[] =>
    ts.isTemplateExpression(literal)
      ? [literal.head.text, ...literal.templateSpans.map((s) => s.literal.text)]
      : [literal.text];
  return new Map(found.map(([name, literal]) => [name, parts(literal).join('\n')]));
}
