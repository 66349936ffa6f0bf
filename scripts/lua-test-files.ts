/**
 * The store tests whose imports reach a file (scripts/lua-mutation.ts runs only those against its
 * mutants): the import graph read with the TypeScript compiler, relative imports and `@aoinb/NAME`
 * (libs/NAME/src/index.ts) followed; a test that cannot import the file cannot run its Lua.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

function resolveImport(root: string, from: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const file = path.resolve(path.dirname(from), specifier);
    return existsSync(file) ? file : null;
  }
  const lib = /^@aoinb\/([a-z0-9-]+)$/.exec(specifier)?.[1];
  const index = lib ? path.join(root, 'libs', lib, 'src/index.ts') : '';
  return index && existsSync(index) ? index : null;
}

/** Whether `target` is among the files `start` imports, directly or not. */
function reaches(root: string, start: string, target: string): boolean {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (file === target) return true;
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const imported of importedFiles) {
      const next = resolveImport(root, file, imported.fileName);
      if (next && !seen.has(next) && !next.includes(`${path.sep}node_modules${path.sep}`)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}

/** Absolute paths of the test files in `testDir` (`*.test.ts`) whose imports reach `target`. */
export function testsReaching(root: string, testDir: string, target: string): string[] {
  return readdirSync(testDir)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => path.join(testDir, name))
    .filter((file) => reaches(root, file, target));
}
